import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

const POSTFIX = '/usr/sbin/postfix';
const SYSTEM_MASTER_CF = '/etc/postfix/master.cf';

export interface PolicyAddress {
  host: string;
  port: number;
}

/** The directories of one private instance, all under one temporary directory. */
export interface PostfixPaths {
  root: string;
  config: string;
  queue: string;
  data: string;
  log: string;
  maillog: string;
}

/** The policy check as Postfix 3.x writes per-service options: `{ name, key=value, ... }`. */
function policyCheck(policy: PolicyAddress): string {
  return `check_policy_service { inet:${policy.host}:${policy.port}, timeout=10s, default_action=DEFER_IF_PERMIT }`;
}

/**
 * main.cf of the private instance: loopback only, every transport `discard:` so nothing leaves
 * the machine, and the policy service asked at RCPT and at END-OF-MESSAGE, failing closed
 * (DEFER_IF_PERMIT) when it does not answer.
 */
export function mainCf(paths: PostfixPaths, policy: PolicyAddress): string {
  const settings: Array<[string, string]> = [
    ['compatibility_level', '3.6'],
    ['queue_directory', paths.queue],
    ['data_directory', paths.data],
    ['mail_owner', 'postfix'],
    ['myhostname', 'portcullis-e2e.localdomain'],
    ['inet_interfaces', 'loopback-only'],
    ['inet_protocols', 'ipv4'],
    ['mydestination', ''],
    ['relayhost', ''],
    ['mynetworks', '127.0.0.0/8'],
    ['default_transport', 'discard:'],
    ['relay_transport', 'discard:'],
    ['local_transport', 'discard:'],
    ['virtual_transport', 'discard:'],
    // Debian's default alias_maps includes nis:, which only logs a warning per smtpd.
    ['alias_maps', ''],
    ['alias_database', ''],
    // No DNS: the sandbox may have none, and a reverse lookup of 127.0.0.1 only adds delay.
    ['smtpd_peername_lookup', 'no'],
    ['smtp_dns_support_level', 'disabled'],
    ['smtpd_authorized_xclient_hosts', '127.0.0.0/8'],
    ['smtpd_recipient_restrictions', `${policyCheck(policy)}, permit_mynetworks, reject`],
    ['smtpd_end_of_data_restrictions', policyCheck(policy)],
    ['message_size_limit', '52428800'],
    ['maillog_file', paths.maillog],
    // postlogd writes only below these prefixes.
    ['maillog_file_prefixes', paths.log],
    ['biff', 'no'],
  ];
  return settings.map(([name, value]) => `${name} = ${value}`.trimEnd()).join('\n') + '\n';
}

/**
 * Debian's master.cf with the SMTP listener moved to 127.0.0.1:<port> and chroot off for every
 * service (a chroot would need copies of /etc files inside the queue directory). A service line
 * has eight columns; continuation lines start with white space:
 *
 *   smtp      inet  n       -       y       -       -       smtpd
 *   relay     unix  -       -       y       -       -       smtp
 *           -o syslog_name=postfix/$service_name
 */
export function masterCf(system: string, smtpPort: number): string {
  let listeners = 0;
  const lines = system.split('\n').map((line) => {
    if (line === '' || /^[#\s]/.test(line)) return line;
    const columns = line.split(/\s+/);
    if (columns.length < 8) throw new Error(`unexpected master.cf service line: ${JSON.stringify(line)}`);
    if (columns[0] === 'smtp' && columns[1] === 'inet') {
      columns[0] = `127.0.0.1:${smtpPort}`;
      listeners++;
    }
    columns[4] = 'n';
    return columns.join(' ');
  });
  if (listeners !== 1) throw new Error(`master.cf has ${listeners} 'smtp inet' services; expected exactly one`);
  return lines.join('\n');
}

function run(file: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** True when something accepts TCP connections at host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}


/** Fails with what to install or how to run, rather than with a cryptic Postfix error. */
async function checkPrerequisites(): Promise<void> {
  if (userInfo().uid !== 0) throw new Error('a private Postfix instance needs root (its daemons switch to the postfix user); run these tests as root');
  try {
    await access(POSTFIX, constants.X_OK);
    await access(SYSTEM_MASTER_CF, constants.R_OK);
  } catch {
    throw new Error(`${POSTFIX} or ${SYSTEM_MASTER_CF} is missing: install Debian's postfix package (apt-get install postfix)`);
  }
}

/** The uid and gid of the `postfix` user, from /etc/passwd (node has no getpwnam). */
async function postfixOwner(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const entry = passwd.split('\n').find((line) => line.startsWith('postfix:'));
  const [, , uid, gid] = entry?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('no postfix user in /etc/passwd: install Debian\'s postfix package');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A private Postfix instance in a temporary directory, started with `postfix -c <dir> start`
 * (as root no alternate_config_directories entry is needed). It never reads or changes
 * /etc/postfix/main.cf or the system instance's queue.
 */
export class PostfixInstance {
  private stopped = false;

  private constructor(
    readonly paths: PostfixPaths,
    readonly host: string,
    readonly smtpPort: number,
  ) {}

  static async start(policy: PolicyAddress): Promise<PostfixInstance> {
    await checkPrerequisites();
    const smtpPort = await freePort();
    const owner = await postfixOwner();
    const root = await mkdtemp(join(tmpdir(), 'portcullis-postfix-'));
    const paths: PostfixPaths = {
      root,
      config: join(root, 'config'),
      queue: join(root, 'queue'),
      data: join(root, 'data'),
      log: join(root, 'log'),
      maillog: join(root, 'log', 'maillog'),
    };
    // Search-only for others: daemons running as `postfix` open queue and data paths below it.
    await chmod(root, 0o711);
    await mkdir(paths.config, { mode: 0o700 });
    // The queue root is root-owned 0755 like /var/spool/postfix; `postfix start` creates the rest.
    await mkdir(paths.queue, { mode: 0o755 });
    await mkdir(paths.data, { mode: 0o700 });
    await chown(paths.data, owner.uid, owner.gid);
    await mkdir(paths.log, { mode: 0o700 });
    await writeFile(join(paths.config, 'main.cf'), mainCf(paths, policy), { mode: 0o644 });
    await writeFile(join(paths.config, 'master.cf'), masterCf(await readFile(SYSTEM_MASTER_CF, 'utf8'), smtpPort), { mode: 0o644 });
    const instance = new PostfixInstance(paths, '127.0.0.1', smtpPort);
    try {
      await run(POSTFIX, ['-c', paths.config, 'start']);
      const end = Date.now() + 15_000;
      while (!(await accepts(instance.host, smtpPort))) {
        if (Date.now() > end) throw new Error(`Postfix does not accept connections on port ${smtpPort}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (err) {
      const log = await instance.maillogTail();
      await instance.stop();
      throw new Error(`${(err as Error).message}\nmaillog:\n${log}`);
    }
    return instance;
  }

  /** Postfix's own log of this instance. */
  async maillog(): Promise<string> {
    try {
      return await readFile(this.paths.maillog, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  async maillogTail(lines = 60): Promise<string> {
    return (await this.maillog()).split('\n').slice(-lines - 1).join('\n');
  }

  /**
   * Live processes of this instance: Postfix daemons carry no config path in their command line
   * (`smtpd -n 127.0.0.1:2526 -t inet -u`), but each has MAIL_CONFIG=<config dir> in its
   * environment. Zombies are dead already and are left out (where PID 1 does not reap them,
   * killed daemons stay as zombies).
   */
  async livePids(): Promise<number[]> {
    const wanted = `MAIL_CONFIG=${this.paths.config}`;
    const pids: number[] = [];
    for (const name of await readdir('/proc')) {
      if (!/^[0-9]+$/.test(name)) continue;
      try {
        const stat = await readFile(`/proc/${name}/stat`, 'utf8');
        if (/^\d+ \(.*\) Z/.test(stat)) continue;
        const environ = (await readFile(`/proc/${name}/environ`, 'utf8')).split('\0');
        if (environ.includes(wanted)) pids.push(Number(name));
      } catch (err) {
        // A process that exits between readdir and readFile is not a live one; one root may not
        // read (a sandbox's init) is none of the daemons this root started.
        if (!['ENOENT', 'ESRCH', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
      }
    }
    return pids;
  }

  /**
   * `postfix stop` waits up to 5 s for the master and then kills its process group; the
   * daemons get SIGTERM from the master. Waits until none of them runs.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if ((await this.livePids()).length > 0) await run(POSTFIX, ['-c', this.paths.config, 'stop']);
    const end = Date.now() + 10_000;
    let left = await this.livePids();
    while (left.length > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      left = await this.livePids();
    }
    if (left.length > 0) throw new Error(`Postfix processes still running after stop: ${left.join(', ')}`);
  }

  /** Stops the instance and deletes its directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.paths.root, { recursive: true, force: true });
  }
}

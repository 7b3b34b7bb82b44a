// Script custom actions of the Portcullis agent MSI (portcullis-agent.wxs). Windows Installer runs
// them in its own JScript host: Validate in the immediate execute sequence, the others deferred as
// LocalSystem (NoImpersonate), with their arguments in CustomActionData.
//
// Why a script at all: Windows Installer cannot write a property into a file, and the enrollment
// token and the uninstall code must reach portcullis-agent.exe neither on its command line
// (process-creation auditing, event 4688, records command lines) nor through a log. So WriteSecret
// puts the secret in a file of the data folder that only SYSTEM and Administrators may open, the
// agent reads it (--token-file, --code-file), and Collect or CollectFailure deletes it. The agent
// itself runs as a plain EXE custom action through cmd.exe, which cleans its environment and keeps
// its output in a file that Collect copies into the MSI log. This script starts no process:
// Windows Installer's own EXE actions do, on Windows and under wine alike (wine's WScript.Shell
// cannot give a child's exit code), so the wine test runs every step of the real package.
//
// JScript here is ECMAScript 3: no JSON, no Array.indexOf, no String.trim.

var SUCCESS = 1; // msiDoActionStatusSuccess
var FAILURE = 3; // msiDoActionStatusFailure
var MESSAGE_ERROR = 0x01000000; // INSTALLMESSAGE_ERROR: a dialog with full UI, a log line with /qn
var MESSAGE_INFO = 0x04000000; // INSTALLMESSAGE_INFO: the log only
var FOR_READING = 1;

// An https URL up to the port, as `portcullis-agent enroll --server` wants it.
var SERVER_PATTERN = /^https:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?\/?$/;
// A SHA-256 fingerprint as portcullis-server prints it: hex, colons or spaces, maybe "SHA256:".
var FINGERPRINT_PATTERN = /^(sha256:)?[0-9a-f: ]{64,95}$/i;
// Enrollment tokens: 8 to 128 printable ASCII characters, as the agent checks them.
var TOKEN_PATTERN = /^[\x21-\x7e]{8,128}$/;
// Uninstall codes: XXXX-XXXX-XXXX, the agent accepting dashes, spaces and any case.
var CODE_PATTERN = /^[0-9A-Za-z -]{4,40}$/;

function log(text) {
  message(MESSAGE_INFO, text);
}

function message(kind, text) {
  // Field 0 is a template that Windows Installer formats; field 1 is taken as it is, so that
  // brackets in the text are never read as [PROPERTY] references.
  var record = Session.Installer.CreateRecord(1);
  record.StringData(0) = "Portcullis: [1]";
  record.StringData(1) = text;
  Session.Message(kind, record);
}

/**
 * The fields of CustomActionData, split on "|". The last field takes the rest, so a secret that
 * contains "|" stays whole: put it last. Sample: "C:\ProgramData\Portcullis\enroll-token.tmp|tok|en".
 */
function fields(count) {
  var data = String(Session.Property("CustomActionData"));
  var out = [];
  for (var i = 0; i < count - 1; i++) {
    var at = data.indexOf("|");
    if (at < 0) throw new Error("the installer passed " + (i + 1) + " field(s) where " + count + " were expected");
    out.push(data.substring(0, at));
    data = data.substring(at + 1);
  }
  out.push(data);
  return out;
}

function property(name) {
  return String(Session.Property(name));
}

/**
 * Immediate: checks the public properties before anything is changed, and says which one is
 * wrong. The values end up inside cmd.exe command lines (quoted), so a quote or a percent sign
 * must never get through; secrets are checked but never printed.
 */
function Validate() {
  try {
    var server = property("SERVER");
    var token = property("TOKEN");
    var fingerprint = property("FINGERPRINT");
    var problems = [];
    var given = (server !== "" ? 1 : 0) + (token !== "" ? 1 : 0) + (fingerprint !== "" ? 1 : 0);
    if (given !== 0 && given !== 3) {
      problems.push("give SERVER, TOKEN and FINGERPRINT together to enroll this computer, or none of them to enroll it later");
    }
    if (server !== "" && !SERVER_PATTERN.test(server)) problems.push("SERVER must be https://host or https://host:port, not \"" + server + "\"");
    if (fingerprint !== "" && !FINGERPRINT_PATTERN.test(fingerprint)) {
      problems.push("FINGERPRINT must be the server's SHA-256 fingerprint as portcullis-server start prints it (3F:A2:...:9C)");
    }
    if (token !== "" && !TOKEN_PATTERN.test(token)) problems.push("TOKEN must be 8 to 128 printable characters without spaces, as portcullis-server token create prints it");
    var code = property("UNINSTALLCODE");
    if (code !== "" && !CODE_PATTERN.test(code)) problems.push("UNINSTALLCODE must look like XXXX-XXXX-XXXX");
    var force = property("FORCEREMOVE");
    if (force !== "" && force !== "1") problems.push("FORCEREMOVE must be 1, or not given");
    if (/["%]/.test(property("INSTALLDIR"))) problems.push("INSTALLDIR must not contain \" or %: " + property("INSTALLDIR"));
    // The service's configuration names %ProgramData%\Portcullis\agent: the data cannot move.
    var data = property("CommonAppDataFolder") + "Portcullis\\";
    if (property("DATADIR").toLowerCase() !== data.toLowerCase() || property("STATEDIR").toLowerCase() !== (data + "agent\\").toLowerCase()) {
      problems.push("the agent's data stays in " + data + ": DATADIR and STATEDIR cannot move it");
    }
    if (problems.length === 0) return SUCCESS;
    message(MESSAGE_ERROR, problems.join("; ") + ".");
    return FAILURE;
  } catch (e) {
    return failed("Validate", e);
  }
}

/** Deferred, "<file>|<secret>": writes the secret alone into file, replacing any older one. */
function WriteSecret() {
  try {
    var f = fields(2);
    var fso = new ActiveXObject("Scripting.FileSystemObject");
    if (fso.FileExists(f[0])) fso.DeleteFile(f[0], true);
    var stream = fso.CreateTextFile(f[0], false, false);
    try {
      stream.Write(f[1]);
    } finally {
      stream.Close();
    }
    return SUCCESS;
  } catch (e) {
    return failed("WriteSecret", e);
  }
}

/**
 * Deferred, after a step that went well, "<output file>|<secret file>|<what>": copies the step's
 * output into the MSI log and deletes both files.
 */
function Collect() {
  try {
    var f = fields(3);
    var output = readAndDelete(f[0]);
    deleteIfThere(f[1]);
    if (output !== null) log(f[2] + ":\r\n" + output);
    return SUCCESS;
  } catch (e) {
    return failed("Collect", e);
  }
}

/**
 * Rollback, "<output file>|<secret file>|<what>|<hint>": when the step failed, shows its output
 * (a dialog with full UI, the log with /qn) and deletes both files. When a later action failed
 * instead, Collect has already deleted the output and this only makes sure the secret is gone.
 */
function CollectFailure() {
  try {
    var f = fields(4);
    deleteIfThere(f[1]);
    var output = readAndDelete(f[0]);
    if (output !== null) message(MESSAGE_ERROR, f[2] + " failed:\r\n" + output + (f[3] === "" ? "" : "\r\n" + f[3]));
    return SUCCESS;
  } catch (e) {
    return failed("CollectFailure", e);
  }
}

/**
 * Commit of a full uninstall, "<data folder>": deletes the agent's state and logs, the identity
 * and its secret with them. A file that cannot be deleted is reported, not fatal: the product is
 * already gone by then.
 */
function RemoveData() {
  try {
    var dir = fields(1)[0].replace(/\\+$/, "");
    var fso = new ActiveXObject("Scripting.FileSystemObject");
    if (fso.FolderExists(dir)) fso.DeleteFolder(dir, true);
    return SUCCESS;
  } catch (e) {
    log("could not delete the data folder completely (" + describe(e) + "); delete it by hand");
    return SUCCESS;
  }
}

function readAndDelete(file) {
  var fso = new ActiveXObject("Scripting.FileSystemObject");
  if (!fso.FileExists(file)) return null;
  var text = readUtf8(file);
  fso.DeleteFile(file, true);
  return text.replace(/\s+$/, "");
}

/**
 * The agent writes UTF-8 ("Computers → host"). ADODB.Stream decodes it on Windows; where it is
 * missing (wine has none) the file is read in the ANSI code page, which garbles only non-ASCII.
 */
function readUtf8(file) {
  try {
    var utf8 = new ActiveXObject("ADODB.Stream");
    utf8.Type = 2; // adTypeText
    utf8.Charset = "utf-8";
    utf8.Open();
    try {
      utf8.LoadFromFile(file);
      return utf8.ReadText();
    } finally {
      utf8.Close();
    }
  } catch (e) {
    var fso = new ActiveXObject("Scripting.FileSystemObject");
    var stream = fso.OpenTextFile(file, FOR_READING, false, 0);
    try {
      return stream.AtEndOfStream ? "" : stream.ReadAll();
    } finally {
      stream.Close();
    }
  }
}

function deleteIfThere(file) {
  if (file === "") return;
  var fso = new ActiveXObject("Scripting.FileSystemObject");
  if (fso.FileExists(file)) fso.DeleteFile(file, true);
}

function failed(action, e) {
  message(MESSAGE_ERROR, action + ": " + describe(e));
  return FAILURE;
}

function describe(e) {
  var text = e && e.message ? e.message : String(e);
  return e && typeof e.number === "number" ? text + " (0x" + (e.number >>> 0).toString(16) + ")" : text;
}

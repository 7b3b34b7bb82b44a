import { expect } from 'chai';
import { MAX_FRAME_BYTES } from '@portcullis/shared';
import { TestAgent, eventsBatch, eventually, hello, upgradeStatus, useHub } from './hub-support.js';

describe('agent hub: connecting and bad input', function () {
  const h = useHub();
  const agentUrl = () => `${h().baseUrl}/agent`;

  describe('the upgrade is refused before any frame', () => {
    it('401 without an Authorization header', async () => {
      expect(await upgradeStatus(agentUrl(), {})).to.equal(401);
    });

    it('401 for a malformed header (other scheme, no secret, bad characters)', async () => {
      const { agentId, secret } = await h().enroll('g1');
      for (const header of [`Basic ${agentId}:${secret}`, `Bearer ${agentId}`, `Bearer ${agentId}.`, `Bearer ${agentId}.${secret}!`, `Bearer  ${agentId}.${secret}`]) {
        expect(await upgradeStatus(agentUrl(), { Authorization: header }), header).to.equal(401);
      }
    });

    it('401 for an agent id that was never enrolled', async () => {
      const { secret } = await h().enroll('g1');
      expect(await upgradeStatus(agentUrl(), { Authorization: `Bearer agt_AAAAAAAAAAAA.${secret}` })).to.equal(401);
    });

    it('401 for the wrong secret', async () => {
      const a = await h().enroll('g1');
      const b = await h().enroll('g1');
      expect(await upgradeStatus(agentUrl(), { Authorization: `Bearer ${a.agentId}.${b.secret}` })).to.equal(401);
    });

    it('401 for a revoked agent, and the refusal is logged', async () => {
      const a = await h().enroll('g1');
      await h().store.revokeAgent(a.agentId, new Date().toISOString());
      expect(await upgradeStatus(agentUrl(), { Authorization: a.bearer })).to.equal(401);
      expect(h().logger.lines.some((l) => l.level === 'warn' && l.message === 'agent connection refused')).to.equal(true);
    });

    it('404 for any path but /agent, even with valid credentials', async () => {
      const a = await h().enroll('g1');
      for (const path of ['/', '/agents', '/agent/x', '/api/v1/enroll']) {
        expect(await upgradeStatus(`${h().baseUrl}${path}`, { Authorization: a.bearer }), path).to.equal(404);
      }
    });

    it('101 with valid credentials (a query string is ignored)', async () => {
      const a = await h().enroll('g1');
      expect(await upgradeStatus(`${agentUrl()}?x=1`, { Authorization: a.bearer })).to.equal(101);
    });
  });

  describe('an accepted connection', () => {
    it('gets welcome with its agent id and the server time; lastSeenAt is set', async () => {
      const a = await h().enroll('g1');
      const client = await TestAgent.connect(agentUrl(), a.bearer);
      const welcome = await client.next('welcome');
      expect(welcome.body.agentId).to.equal(a.agentId);
      expect(Math.abs(Date.parse(welcome.body.serverTime) - Date.now())).to.be.below(60_000);
      expect(h().hub.isConnected(a.agentId)).to.equal(true);
      await eventually('lastSeenAt', async () => (await h().store.getAgent(a.agentId))?.lastSeenAt ?? undefined);
      await client.close();
      await eventually('the hub to forget the agent', async () => !h().hub.isConnected(a.agentId));
    });

    it('a second connection of the same agent closes the first with 4000 and keeps working', async () => {
      const { agent, client: first } = await h().connectNew('g1');
      const second = await TestAgent.connect(agentUrl(), agent.bearer);
      await second.next('welcome');
      expect((await first.closed).code).to.equal(4000);
      // The first socket's close must not unregister the second.
      expect(h().hub.isConnected(agent.agentId)).to.equal(true);
      second.send(eventsBatch([1]));
      expect((await second.next('ack')).body.seq).to.equal(1);
      await second.close();
    });
  });

  describe('invalid frames', () => {
    // One row per kind of bad frame: what is sent and what the error must name.
    const rows: Array<{ name: string; frame: string; says: RegExp }> = [
      { name: 'not JSON', frame: '{"v":1,', says: /not JSON/ },
      { name: 'a protocol version the server does not speak', frame: JSON.stringify({ v: 2, type: 'hello', body: {} }), says: /protocol version 2 is not supported/ },
      { name: 'an unknown message type', frame: JSON.stringify({ v: 1, type: 'bogus', body: {} }), says: /unknown agent→server message type "bogus"/ },
      { name: 'a bad field (seq 0)', frame: JSON.stringify({ ...eventsBatch([0]) }), says: /body\.events\[0\]\.seq/ },
      { name: 'a missing field', frame: JSON.stringify({ v: 1, type: 'applied', body: {} }), says: /version/ },
    ];

    it('each gets an error naming the problem; the fifth closes the socket with 1008', async () => {
      const { client } = await h().connectNew('g1');
      for (const row of rows) {
        client.send(row.frame);
        const error = await client.next('error');
        expect(error.body.code, row.name).to.equal('PORTCULLIS_ERR_PROTOCOL_INVALID');
        expect(error.body.message, row.name).to.match(row.says);
      }
      expect((await client.closed).code).to.equal(1008);
    });

    it('fewer than five leave the connection usable', async () => {
      const { client } = await h().connectNew('g1');
      for (let i = 0; i < 4; i++) client.send('nonsense');
      for (let i = 0; i < 4; i++) await client.next('error');
      client.send(eventsBatch([1]));
      expect((await client.next('ack')).body.seq).to.equal(1);
      await client.close();
    });

    it('a binary frame gets an error', async () => {
      const { client } = await h().connectNew('g1');
      client.send(Buffer.from(JSON.stringify(hello(null))));
      const error = await client.next('error');
      expect(error.body.message).to.match(/binary frames/);
      expect(client.closeEvent).to.equal(undefined);
      await client.close();
    });

    it(`a frame over ${MAX_FRAME_BYTES} bytes closes the socket with 1009`, async () => {
      const { client } = await h().connectNew('g1');
      client.send('x'.repeat(MAX_FRAME_BYTES + 1));
      expect((await client.closed).code).to.equal(1009);
    });

    it(`a frame of exactly ${MAX_FRAME_BYTES} bytes is read (and refused as a message, not as a size)`, async () => {
      const { client } = await h().connectNew('g1');
      const frame = JSON.stringify({ v: 1, type: 'hello', body: { pad: '' } });
      client.send(frame.replace('"pad":""', `"pad":"${'x'.repeat(MAX_FRAME_BYTES - frame.length)}"`));
      const error = await client.next('error');
      expect(error.body.message).not.to.match(/limit/);
      await client.close();
    });
  });

  describe('revocation and moves while connected (agentChanged)', () => {
    it('a revoked agent is disconnected with 4001 and cannot come back', async () => {
      const { agent, client } = await h().connectNew('g1');
      await h().store.revokeAgent(agent.agentId, new Date().toISOString());
      await h().hub.agentChanged(agent.agentId);
      expect((await client.closed).code).to.equal(4001);
      expect(h().hub.isConnected(agent.agentId)).to.equal(false);
      expect(await upgradeStatus(agentUrl(), { Authorization: agent.bearer })).to.equal(401);
    });

    it("a moved agent gets its new group's policy and later pushes of that group only", async () => {
      const { agent, client } = await h().connectNew('g1');
      await h().store.setAgentGroup(agent.agentId, 'g2');
      await h().hub.agentChanged(agent.agentId);
      const policy = await client.next('policy');
      expect(policy.body.signed.document.group).to.equal('g2');
      client.send(eventsBatch([1]));
      const ack = await client.next('ack');
      expect(ack.body.seq).to.equal(1);
      expect((await h().store.queryEvents({ agentId: agent.agentId, limit: 10 }))[0]?.group).to.equal('g2');
      await client.close();
    });
  });

  describe('afterwards', () => {
    it('the server survived all of the above: a fresh agent still connects and gets welcome', async () => {
      const { agent, client } = await h().connectNew('g2');
      expect(h().hub.isConnected(agent.agentId)).to.equal(true);
      client.send(hello(null));
      expect((await client.next('policy')).body.signed.document.group).to.equal('g2');
      await client.close();
      expect(h().logger.lines.filter((l) => l.level === 'error')).to.deep.equal([]);
    });
  });
});

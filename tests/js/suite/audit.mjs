// The audit chain (core's AuditChain, pure; docs/audit.md; formerly the pure tests of
// bindings-node/test/audit.test.mjs): building entries, verifying runs, checkpoints, the CLI's
// existing log format, typed errors naming the seq (`auditPosition`), never a value.
import { assert, utf8 } from '../harness.mjs'

const T = 1_700_000_000
const DATA = 'core/tests/data'

export default function register(test, ctx) {
  const { kc, throwsKc, has, host } = ctx
  const skip = !has('AuditChain') && 'no AuditChain in this runtime (tests/api.json)'
  const { Keyring, AuditChain, AuditEntry, AuditCheckpoint, AuditReport } = kc
  const ring = () => Keyring.fromSecret(utf8('0123456789abcdef0123456789abcdef'), 1)
  const ev = (i) => ({ op: 'secret.read', names: [`OPENAI_KEY_${i}`], actor: 'user-7', tenant: 'acme', outcome: 'ok' })
  function build(chain, n, t0 = T) {
    const out = []
    for (let i = 0; i < n; i++) out.push(chain.next(out.at(-1) ?? null, ev(i), t0 + i))
    return out
  }

  test('build and verify a run; entries as JSON text and readable fields', { skip }, () => {
    const chain = new AuditChain(ring(), 'tenant:acme')
    assert.equal(chain.scope, 'tenant:acme')
    const run = build(chain, 50)
    const e = run[9]
    assert.deepEqual([e.seq, e.ts, e.kid, e.op, e.names], [10, T + 9, 1, 'secret.read', ['OPENAI_KEY_9']])
    assert.deepEqual([e.actor, e.tenant, e.outcome, e.route], ['user-7', 'acme', 'ok', null])
    assert.equal(e.prev, run[8].mac)
    assert.equal(run[0].prev, '0'.repeat(64))
    const text = e.toJson()
    assert.equal(AuditEntry.parse(text).toJson(), text)
    assert.equal(AuditEntry.parse(utf8(text)).mac, e.mac)
    assert.deepEqual(Object.keys(JSON.parse(text)), ['seq', 'ts', 'kid', 'op', 'names', 'actor', 'tenant', 'outcome', 'prev', 'mac'])
    const rep = chain.verifyRun(run)
    assert.ok(rep instanceof AuditReport)
    assert.deepEqual([rep.entries, rep.firstSeq, rep.lastSeq, rep.headMac], [50, 1, 50, run[49].mac])
    const rep2 = chain.verifyRun(run.slice(30), run[29])
    assert.deepEqual([rep2.entries, rep2.firstSeq, rep2.lastSeq], [20, 31, 50])
    chain.verifyEntry(run[0])
    assert.ok(chain.next(run[49], { op: 'secret.list' }).ts > 0) // now defaults to the clock
    // The arguments stay usable after every call (wasm: copies are passed where wasm-bindgen takes ownership).
    assert.deepEqual([run[0].seq, run[29].seq, run[49].seq, run[49].mac], [1, 30, 50, rep.headMac])
    assert.equal(chain.verifyRun(run).entries, 50)
  })

  test('a tampered, removed or reordered entry is named by its seq (auditPosition)', { skip }, () => {
    const chain = new AuditChain(ring(), 'tenant:acme')
    const run = build(chain, 20)
    const forged = AuditEntry.parse(run[6].toJson().replace('OPENAI_KEY_6', 'OPENAI_KEY_X'))
    const at = (f, seq, why) => {
      const e = throwsKc(f, 'AuditBroken')
      assert.equal(e.auditPosition, seq)
      if (why) assert.match(e.message, why)
    }
    at(() => chain.verifyRun([...run.slice(0, 6), forged, ...run.slice(7)]), 7, /MAC mismatch/)
    at(() => chain.verifyRun([...run.slice(0, 3), ...run.slice(4)]), 4)
    at(() => chain.verifyRun([...run.slice(0, 5), run[6], run[5], ...run.slice(7)]), 6)
    throwsKc(() => new AuditChain(Keyring.generate(), 'tenant:acme').verifyRun(run), 'AuditBroken')
    throwsKc(() => new AuditChain(ring(), 'tenant:globex').verifyEntry(run[0]), 'AuditBroken')
    throwsKc(() => chain.next(forged, ev(0), T), 'AuditBroken')
    // Only AuditBroken carries it.
    assert.equal(Object.hasOwn(throwsKc(() => chain.next(null, { op: '' }, T), 'InvalidArgument'), 'auditPosition'), false)
  })

  test('checkpoints detect erase, truncation and divergence', { skip }, () => {
    const chain = new AuditChain(ring(), 'tenant:acme')
    const run = build(chain, 30)
    const cp = chain.checkpoint(run[19], T + 100)
    assert.deepEqual([cp.scope, cp.seq, cp.head, cp.ts, cp.kid], ['tenant:acme', 20, run[19].mac, T + 100, 1])
    const cp2 = AuditCheckpoint.parse(cp.toText())
    assert.equal(cp2.toText(), cp.toText())
    chain.verifyCheckpoint(cp2)
    chain.checkAgainst(cp, chain.verifyRun(run), run[19])
    chain.checkAgainst(chain.checkpoint(null, T), chain.verifyRun([]))
    assert.equal(throwsKc(() => chain.checkAgainst(cp, chain.verifyRun([])), 'AuditBroken').auditPosition, 1)
    assert.equal(throwsKc(() => chain.checkAgainst(cp, chain.verifyRun(run.slice(0, 12))), 'AuditBroken').auditPosition, 13)
    const other = build(chain, 25, T + 1000) // another history of the same scope
    const e = throwsKc(() => chain.checkAgainst(cp, chain.verifyRun(other), other[19]), 'AuditBroken')
    assert.equal(e.auditPosition, 20)
    assert.match(e.message, /diverges/)
    throwsKc(() => chain.verifyCheckpoint(AuditCheckpoint.parse(cp.toText().replace('"seq":20', '"seq":21'))), 'AuditBroken')
    throwsKc(() => chain.checkAgainst(cp, chain.verifyRun(run)), 'InvalidArgument')
    assert.equal(run[19].seq, 20) // still usable
  })

  test('entries the CLI wrote verify byte for byte', { skip }, async () => {
    const kr = Keyring.parse(await host.repoText(`${DATA}/audit_cli_v0.key`))
    const chain = new AuditChain(kr, (await host.repoText(`${DATA}/audit_cli_v0.scope`)).trim())
    const lines = (await host.repoText(`${DATA}/audit_cli_v0.log`)).split('\n').filter(Boolean)
    const run = lines.map((l) => AuditEntry.parse(l))
    assert.deepEqual(run.map((e) => e.toJson()), lines)
    assert.equal(chain.verifyRun(run).entries, lines.length)
    assert.deepEqual([...new Set(run.map((e) => e.kid))].sort(), [1, 2])
  })

  test('bad events, entries and arguments are typed errors without the values', { skip }, () => {
    const chain = new AuditChain(ring(), 's')
    for (const [event, kind] of [
      [{ op: '' }, 'InvalidArgument'],
      [{ op: 'x\n' }, 'InvalidArgument'],
      [{ op: 'x'.repeat(257) }, 'InvalidArgument'],
      [{ op: 'x', names: Array(65).fill('n') }, 'InvalidArgument'],
      [{ op: 'x', tenant: '' }, 'InvalidArgument'],
      [{ op: 'x', outcome: 'maybe' }, 'InvalidArgument'],
      [{ op: 'x', value: 'sk-secret' }, 'InvalidArgument'],
      [{ op: 'x', tennant: 'acme' }, 'InvalidArgument'],
    ]) {
      const e = throwsKc(() => chain.next(null, event, T), kind)
      assert.ok(!e.message.includes('sk-secret') && !e.message.includes('acme'), e.message)
    }
    for (const event of [null, 'op', ['op'], { names: ['a'] }, { op: 1 }, { op: 'x', names: 'a' }]) {
      throwsKc(() => chain.next(null, event, T), 'InvalidArgument', 'type')
    }
    throwsKc(() => chain.next({ seq: 1 }, { op: 'x' }, T), 'InvalidArgument', 'type')
    throwsKc(() => chain.verifyRun('nope'), 'InvalidArgument', 'type')
    throwsKc(() => new AuditChain({}, 's'), 'InvalidArgument', 'type')
    throwsKc(() => new AuditChain(ring(), ''), 'InvalidOwner')
    for (const t of ['', '{}', 'not json', '{"seq":1}']) {
      throwsKc(() => AuditEntry.parse(t), 'Malformed')
      throwsKc(() => AuditCheckpoint.parse(t), 'Malformed')
    }
  })
}

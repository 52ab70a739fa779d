// Behaviour of keycustody-wasm that the napi package does not share by construction (the
// shared suite, tests/js, asserts everything both do). napi's Keyring has no constructor at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as kc from '../node.js';

const { Keyring } = kc;

function throwsKc(fn, code, extra = {}) {
  assert.throws(fn, (e) => {
    assert.equal(e.name, 'KeycustodyError');
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    for (const [k, v] of Object.entries(extra)) {
      if (v instanceof RegExp) assert.match(e[k], v, k);
      else assert.equal(e[k], v, k);
    }
    return true;
  });
}

test('new Keyring() is refused with a typed error, also with a keyring or the adopt symbol', () => {
  throwsKc(() => new Keyring(), 'KC_INVALID_ARGUMENT');
  // keyring.js moves a keyring in only for its own factories: the keyring passed stays usable.
  const kr = Keyring.generate();
  const env = kr.seal('t', 'v');
  throwsKc(() => new Keyring(kr), 'KC_INVALID_ARGUMENT');
  throwsKc(() => new Keyring(Symbol('keycustody.adopt'), kr), 'KC_INVALID_ARGUMENT');
  assert.equal(kr.openText('t', env), 'v');
});

test('the audit value classes have no usable constructor; a freed entry or checkpoint is refused, never a trap', () => {
  const { AuditChain, AuditEntry, AuditCheckpoint, AuditReport } = kc;
  for (const C of [AuditEntry, AuditCheckpoint, AuditReport]) throwsKc(() => new C(), 'KC_INVALID_ARGUMENT');
  const chain = new AuditChain(Keyring.generate(), 'tenant:acme');
  const first = chain.next(null, { op: 'secret.read' }, 1700000000);
  const cp = chain.checkpoint(first, 1700000000);
  const rep = chain.verifyRun([first]);
  // Passing an entry (also as an optional or array argument) leaves it usable.
  assert.equal(chain.next(first, { op: 'x' }, 1700000001).seq, 2);
  chain.checkAgainst(cp, rep, first);
  assert.equal(first.seq, 1);
  const freed = AuditEntry.parse(first.toJson());
  freed.free();
  throwsKc(() => chain.verifyEntry(freed), 'KC_INVALID_ARGUMENT', { argument: 'entry' });
  throwsKc(() => chain.next(freed, { op: 'x' }), 'KC_INVALID_ARGUMENT', { argument: 'prev' });
  throwsKc(() => chain.verifyRun([first, freed]), 'KC_INVALID_ARGUMENT', { argument: 'entries' });
  throwsKc(() => chain.verifyRun([first], freed), 'KC_INVALID_ARGUMENT', { argument: 'after' });
  throwsKc(() => chain.checkpoint(freed), 'KC_INVALID_ARGUMENT', { argument: 'head' });
  throwsKc(() => chain.checkAgainst(cp, rep, freed), 'KC_INVALID_ARGUMENT', { argument: 'entryAtCheckpoint' });
  throwsKc(() => chain.checkAgainst(cp, cp), 'KC_INVALID_ARGUMENT', { argument: 'report' });
  const freedCp = AuditCheckpoint.parse(cp.toText());
  freedCp.free();
  throwsKc(() => chain.verifyCheckpoint(freedCp), 'KC_INVALID_ARGUMENT', { argument: 'checkpoint' });
  const freedKr = Keyring.generate();
  freedKr.free();
  throwsKc(() => new AuditChain(freedKr, 's'), 'KC_INVALID_ARGUMENT', { argument: 'keyring' });
  // An exception thrown by the caller's getter while the event is read is rethrown as is.
  const boom = new Error('caller');
  assert.throws(() => chain.next(null, { get op() { throw boom; } }), (e) => e === boom);
  assert.equal(chain.verifyRun([first]).entries, 1);
});

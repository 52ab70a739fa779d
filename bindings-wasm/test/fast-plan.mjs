// The plan shared by fast.test.mjs and fast-child.mjs: seal every case, open the other
// side's envelopes, and make every bad call, recording plaintexts and error fields.
export const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

/** A JSON-safe argument description -> the JS value. */
export function arg(a) {
  switch (a.t) {
    case 'u8': return fromHex(a.v);
    case 'str': return a.v;
    case 'undef': return undefined;
    case 'null': return null;
    default: return a.v; // numbers, objects, booleans: as given
  }
}

function outcome(f) {
  try {
    const r = f();
    return { ok: r instanceof Uint8Array ? toHex(r) : r };
  } catch (e) {
    return { err: [e.name, e.code, e.kind, e.malformedKind ?? null] };
  }
}

export function run(kc, { keyring, cases, envelopes, bad }) {
  const kr = kc.Keyring.parse(keyring);
  const sealed = cases.map((c) => kr.seal(arg(c.owner), arg(c.plaintext), arg(c.context)));
  const opened = envelopes.map((e, i) => {
    const c = cases[i];
    return {
      bytes: outcome(() => kr.open(arg(c.owner), e, arg(c.context))),
      text: outcome(() => kr.openText(arg(c.owner), e, arg(c.context))),
    };
  });
  const errors = bad.map(([method, args]) => outcome(() => kr[method](...args.map(arg))));
  return { sealed, opened, errors };
}

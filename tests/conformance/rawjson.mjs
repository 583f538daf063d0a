// A tiny strict JSON parser that keeps every number as the exact text it was written with.
//
// JSON.parse in Node 20 turns `1.50` into 1.5 and has no access to the source text of a number
// (the `context.source` reviver argument arrives with V8 11.4+), but FHIR requires decimals to
// round-trip as written. parseRaw() returns plain objects/arrays/strings/booleans/null, with
// numbers wrapped as RawNumber { text }. It also rejects duplicate object keys (FHIR JSON forbids
// them) so that it can double as a validity check on server output.

export class RawNumber {
  constructor(text) {
    this.text = text;
  }
  toString() {
    return this.text;
  }
}

const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING_RE = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

export function parseRaw(text) {
  let pos = 0;
  let depth = 0;
  const fail = (msg) => {
    throw new SyntaxError(`${msg} at offset ${pos}`);
  };
  const ws = () => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };
  const value = () => {
    ws();
    const c = text[pos];
    if (c === '{') {
      if (++depth > 10000) fail('nesting too deep');
      pos++;
      const obj = {};
      ws();
      if (text[pos] === '}') {
        pos++;
        depth--;
        return obj;
      }
      for (;;) {
        ws();
        if (text[pos] !== '"') fail('expected a key');
        const key = string();
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail(`duplicate key "${key}"`);
        ws();
        if (text[pos] !== ':') fail('expected ":"');
        pos++;
        const v = value();
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          depth--;
          return obj;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      if (++depth > 10000) fail('nesting too deep');
      pos++;
      const arr = [];
      ws();
      if (text[pos] === ']') {
        pos++;
        depth--;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          depth--;
          return arr;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    NUMBER_RE.lastIndex = pos;
    const m = NUMBER_RE.exec(text);
    if (m) {
      pos += m[0].length;
      return new RawNumber(m[0]);
    }
    return fail('unexpected character');
  };
  const string = () => {
    STRING_RE.lastIndex = pos;
    const m = STRING_RE.exec(text);
    if (!m) fail('bad string');
    pos += m[0].length;
    return JSON.parse(m[0]);
  };
  const v = value();
  ws();
  if (pos !== text.length) fail('trailing characters');
  return v;
}

// Deep comparison of two parseRaw() trees. Returns null when equal, else a description of the
// first difference with its JSON path (object key order is irrelevant, array order matters).
export function diffRaw(a, b, path = '$') {
  if (a instanceof RawNumber || b instanceof RawNumber) {
    if (!(a instanceof RawNumber) || !(b instanceof RawNumber)) return `${path}: ${show(a)} != ${show(b)}`;
    return a.text === b.text ? null : `${path}: number ${a.text} != ${b.text} (decimal not kept as written)`;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${path}: ${show(a)} != ${show(b)}`;
    if (a.length !== b.length) return `${path}: array length ${a.length} != ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = diffRaw(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && typeof a === 'object' && b && typeof b === 'object') {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    for (const k of ka) if (!(k in b)) return `${path}.${k}: present in sent, missing in read-back`;
    for (const k of kb) if (!(k in a)) return `${path}.${k}: missing in sent, present in read-back (${show(b[k])})`;
    for (const k of ka) {
      const d = diffRaw(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${show(a)} != ${show(b)}`;
}

function show(v) {
  const s = stringifyCanonical(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

// Canonical text: sorted keys, numbers as written. Good for hashing content.
export function stringifyCanonical(v) {
  if (v instanceof RawNumber) return v.text;
  if (Array.isArray(v)) return `[${v.map(stringifyCanonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stringifyCanonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

// Copy of a parsed resource without the given top-level keys.
export function without(obj, ...keys) {
  const out = {};
  for (const k of Object.keys(obj)) if (!keys.includes(k)) out[k] = obj[k];
  return out;
}

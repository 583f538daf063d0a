// The R4 search matching rules (https://hl7.org/fhir/R4/search.html), written in JavaScript from
// the specification, independently of the server. Two halves:
//   extract(paramType, node)  what one FHIRPath result (a typed fhirpath.js node) offers a search
//   matches(...)              whether a resource's extracted values satisfy one query value
// Readings of the spec where it leaves a choice (each one is the same in the server, see
// docs/decisions.md D13–D14 and the oracle's own section):
//   - dates without a zone are UTC; a value covers the whole range of its precision;
//   - `ne` on a resource with several values holds when one of them is not `eq` (per value);
//   - numbers and quantities in the resource are exact points; the query's implied precision
//     ("100" → [99.5, 100.5)) applies to eq/ne only; `ap` is ±10 % of the query value;
//   - a date `ap` widens the query range by 10 % of its distance from now (at least one day);
//   - token codes are case-sensitive; a code-only query matches any system;
//   - :missing=true means the resource has no value the parameter could match (no extracted
//     entry): a Reference with only a display, a Period with neither start nor end, are missing;
//     a Reference with only an identifier is not (its :identifier can match).

export function normalize(s) {
  return String(s).normalize('NFD').replace(/\p{Mn}/gu, '').normalize('NFC').toLowerCase();
}

function typeName(node) {
  return node?.getTypeInfo ? node.getTypeInfo().name : undefined;
}
function dataOf(node) {
  return node && typeof node === 'object' && 'data' in node ? node.data : node;
}
const arr = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

// ---- dates --------------------------------------------------------------------------------------
const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** [low, high] in microseconds since the epoch (both inclusive), or null when not a date. */
export function dateRange(text) {
  const m = DATE_RE.exec(String(text));
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let offsetMin = 0;
  if (zone && zone !== 'Z') offsetMin = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const base = (Y, M, D, H, Mi, S) => Date.UTC(Y, M, D, H, Mi, S) * 1000 - offsetMin * 60e6;
  const Y = Number(y);
  let low;
  let high;
  if (mo === undefined) {
    low = base(Y, 0, 1, 0, 0, 0);
    high = base(Y + 1, 0, 1, 0, 0, 0);
  } else if (d === undefined) {
    low = base(Y, Number(mo) - 1, 1, 0, 0, 0);
    high = base(Y, Number(mo), 1, 0, 0, 0);
  } else if (h === undefined) {
    low = base(Y, Number(mo) - 1, Number(d), 0, 0, 0);
    high = low + 86400e6;
  } else if (s === undefined) {
    low = base(Y, Number(mo) - 1, Number(d), Number(h), Number(mi), 0);
    high = low + 60e6;
  } else if (frac === undefined) {
    low = base(Y, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    high = low + 1e6;
  } else {
    const digits = Math.min(frac.length, 6);
    const unit = 10 ** (6 - digits);
    low = base(Y, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + Number(frac.slice(0, digits)) * unit;
    high = low + unit;
  }
  return [low, high - 1];
}

// ---- extraction ---------------------------------------------------------------------------------
/**
 * Values one node offers to a parameter of `paramType`. Returns an array of entries:
 *   token     { system, code, texts[] }   (system undefined when the element has none)
 *   string    { value }
 *   date      { low, high }
 *   reference { type, id, url }            (type/id parsed from a literal reference)
 *   quantity  { value, system, code, unit }
 *   number    { value }
 *   uri       { value }
 * The second result, `kind`, names the element type seen (for the report).
 */
export function extract(paramType, node) {
  const t = typeName(node);
  const v = dataOf(node);
  const out = [];
  switch (paramType) {
    case 'token': {
      if (t === 'Coding' || (t === undefined && v && typeof v === 'object' && 'code' in v && !('coding' in v))) {
        out.push({ system: v.system, code: v.code, texts: arr(v.display) });
      } else if (t === 'CodeableConcept') {
        const texts = [...arr(v.text), ...arr(v.coding).map((c) => c.display).filter(Boolean)];
        for (const c of arr(v.coding)) out.push({ system: c.system, code: c.code, texts });
        if (!arr(v.coding).length && texts.length) out.push({ system: undefined, code: undefined, texts });
      } else if (t === 'Identifier') {
        out.push({ system: v.system, code: v.value, texts: arr(v.type?.text), ofType: arr(v.type?.coding).map((c) => ({ system: c.system, code: c.code })) });
      } else if (t === 'ContactPoint') {
        out.push({ system: v.system, code: v.value, texts: [], contactPoint: true });
      } else if (typeof v === 'boolean' || typeof v === 'string' || typeof v === 'number') {
        // A primitive (code, id, uri, boolean): its system, if any, is implied by its binding.
        out.push({ system: undefined, code: String(v), texts: [], primitive: true });
      }
      break;
    }
    case 'string': {
      const add = (s) => typeof s === 'string' && s !== '' && out.push({ value: s });
      if (t === 'HumanName') {
        for (const k of ['family', 'given', 'prefix', 'suffix', 'text']) arr(v[k]).forEach(add);
      } else if (t === 'Address') {
        for (const k of ['line', 'city', 'district', 'state', 'postalCode', 'country', 'text']) arr(v[k]).forEach(add);
      } else if (typeof v === 'string') {
        add(v);
      }
      break;
    }
    case 'date': {
      if (typeof v === 'string') {
        const r = dateRange(v);
        if (r) out.push({ low: r[0], high: r[1] });
      } else if (t === 'Period') {
        const s = v.start ? dateRange(v.start) : null;
        const e = v.end ? dateRange(v.end) : null;
        if (s || e) out.push({ low: s ? s[0] : -Infinity, high: e ? e[1] : Infinity });
      } else if (t === 'Timing') {
        for (const ev of arr(v.event)) {
          const r = dateRange(ev);
          if (r) out.push({ low: r[0], high: r[1] });
        }
      }
      break;
    }
    case 'reference': {
      const ref = typeof v === 'string' ? v : v && typeof v === 'object' ? v.reference : undefined;
      if (typeof ref === 'string' && ref !== '' && !ref.startsWith('#')) out.push(parseReference(ref));
      if (v && typeof v === 'object' && v.identifier?.value) out.push({ identifier: { system: v.identifier.system, code: v.identifier.value } });
      break;
    }
    case 'quantity': {
      if (v && typeof v === 'object' && typeof v.value === 'number') {
        if (t === 'Money') out.push({ value: v.value, system: 'urn:iso:std:iso:4217', code: v.currency, unit: undefined });
        else out.push({ value: v.value, system: v.system, code: v.code, unit: v.unit });
      }
      break;
    }
    case 'number': {
      const n = typeof v === 'number' ? v : v && typeof v === 'object' && typeof v.value === 'number' ? v.value : undefined;
      if (n !== undefined) out.push({ value: n });
      break;
    }
    case 'uri': {
      if (typeof v === 'string') out.push({ value: v });
      break;
    }
    default:
      break;
  }
  return { entries: out, kind: t ?? typeof v };
}

const RESOURCE_REF_RE = /^(?:(.*)\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

export function parseReference(ref) {
  if (ref.startsWith('urn:')) return { url: ref };
  const m = RESOURCE_REF_RE.exec(ref.split(/[?#]/)[0]);
  if (!m) return { url: ref };
  const absolute = m[1] !== undefined && /:/.test(m[1]);
  return { type: m[2], id: m[3], url: absolute ? ref : undefined };
}

// ---- query values -------------------------------------------------------------------------------
const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

export function splitPrefix(value) {
  const p = value.slice(0, 2);
  if (PREFIXES.includes(p) && /^[-+0-9.]/.test(value.slice(2))) return [p, value.slice(2)];
  return ['eq', value];
}

/** The interval a decimal's written precision covers: "100" → [99.5, 100.5). */
export function impliedInterval(text) {
  const n = Number(text);
  const frac = /\.(\d+)$/.exec(text);
  const half = 0.5 * 10 ** -(frac ? frac[1].length : 0);
  return [n - half, n + half];
}

function numberMatches(prefix, text, x) {
  const n = Number(text);
  switch (prefix) {
    case 'eq': {
      const [lo, hi] = impliedInterval(text);
      return x === n || (x >= lo && x < hi);
    }
    case 'ne': {
      const [lo, hi] = impliedInterval(text);
      return !(x === n || (x >= lo && x < hi));
    }
    case 'gt':
    case 'sa':
      return x > n;
    case 'lt':
    case 'eb':
      return x < n;
    case 'ge':
      return x >= n;
    case 'le':
      return x <= n;
    case 'ap':
      return Math.abs(x - n) <= Math.abs(n) * 0.1 + 1e-12;
    default:
      return false;
  }
}

export function dateMatches(prefix, [pl, ph], { low: lo, high: hi }, nowUs) {
  const eq = lo >= pl && hi <= ph;
  switch (prefix) {
    case 'eq':
      return eq;
    case 'ne':
      return !eq;
    case 'gt':
      return hi > ph;
    case 'lt':
      return lo < pl;
    case 'ge':
      return hi > ph || eq;
    case 'le':
      return lo < pl || eq;
    case 'sa':
      return lo > ph;
    case 'eb':
      return hi < pl;
    case 'ap': {
      const widen = Math.max(Math.floor(Math.abs(nowUs - pl) / 10), 86400e6);
      return hi >= pl - widen && lo <= ph + widen;
    }
    default:
      return false;
  }
}

function tokenMatches(q, e) {
  const bar = q.indexOf('|');
  if (bar < 0) return e.code === q;
  const system = q.slice(0, bar);
  const code = q.slice(bar + 1);
  if (system === '') return e.system === undefined && e.code === code;
  if (code === '') return e.system === system;
  return e.system === system && e.code === code;
}

/** Splits on unescaped `sep` and unescapes `\,` `\|` `\$` `\\`. */
export function splitEscaped(text, sep) {
  const parts = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      cur += text[++i];
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/**
 * Whether one entry satisfies one query value of a parameter of `paramType` with `modifier`
 * (:missing and :not are handled by the caller, over all entries of a resource).
 */
export function entryMatches(paramType, modifier, value, e, nowUs) {
  switch (paramType) {
    case 'token':
      if (e.identifier) return false;
      if (modifier === 'text') return e.texts.some((t) => normalize(t).startsWith(normalize(value)));
      if (modifier === 'of-type') {
        const [sys, code, val] = splitEscaped(value, '|');
        return e.code === val && (e.ofType ?? []).some((c) => c.system === sys && c.code === code);
      }
      if (e.code === undefined) return false;
      return tokenMatches(value, e);
    case 'string':
      if (modifier === 'exact') return e.value === value;
      if (modifier === 'contains') return normalize(e.value).includes(normalize(value));
      return normalize(e.value).startsWith(normalize(value));
    case 'date': {
      const [prefix, text] = splitPrefix(value);
      const r = dateRange(text);
      return r ? dateMatches(prefix, r, e, nowUs) : false;
    }
    case 'number': {
      const [prefix, text] = splitPrefix(value);
      return numberMatches(prefix, text, e.value);
    }
    case 'quantity': {
      const [prefix, rest] = splitPrefix(value);
      const [num, system, code] = splitEscaped(rest, '|');
      if (!numberMatches(prefix, num, e.value)) return false;
      if (system) return e.system === system && (!code || e.code === code);
      if (code) return e.code === code || e.unit === code;
      return true;
    }
    case 'reference': {
      if (modifier === 'identifier') return e.identifier ? tokenMatches(value, e.identifier) : false;
      if (e.identifier) return false;
      const typeMod = modifier && /^[A-Z]/.test(modifier) ? modifier : undefined;
      if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return e.url === value;
      const slash = value.indexOf('/');
      const qType = slash >= 0 ? value.slice(0, slash) : typeMod;
      const qId = slash >= 0 ? value.slice(slash + 1) : value;
      if (e.url !== undefined && e.type === undefined) return false;
      return e.id === qId && (qType === undefined || e.type === qType);
    }
    case 'uri':
      if (modifier === 'below') return e.value.startsWith(value);
      if (modifier === 'above') return e.value === value || value.startsWith(`${e.value}/`);
      return e.value === value;
    default:
      return false;
  }
}

/**
 * Whether a resource with `entries` (all its values for the parameter; `present` whether the
 * expression yielded anything) matches `name[:modifier]=v1,v2` (values ORed).
 */
export function resourceMatches(paramType, modifier, values, { entries }, nowUs) {
  if (modifier === 'missing') return values[0] === 'true' ? entries.length === 0 : entries.length > 0;
  if (modifier === 'not') return !values.some((v) => entries.some((e) => entryMatches(paramType, '', v, e, nowUs)));
  return values.some((v) => entries.some((e) => entryMatches(paramType, modifier, v, e, nowUs)));
}

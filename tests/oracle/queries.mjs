// Query generation: from the values that occur in the corpus (and some that do not), the queries
// each parameter type calls for. Deterministic: the same corpus gives the same queries.
//
// A query is { modifier, values[] } — the values unescaped (as the oracle compares them); the URL
// form escapes `,` `|` `$` `\` inside each value where the value is a single token part.

// Escapes a value part for the query string (search.html#escaping).
export const esc = (s) => String(s).replace(/[\\,|$]/g, (c) => `\\${c}`);

const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

// Picks up to n items spread over a list sorted by descending frequency (most common first,
// then the rarest, then from the middle), deterministic.
function spread(items, n) {
  if (items.length <= n) return items;
  const picks = [items[0], items[items.length - 1]];
  for (let i = 1; picks.length < n; i++) picks.push(items[Math.floor((items.length * i) / n)]);
  return [...new Set(picks)];
}

function byFrequency(keys) {
  const counts = new Map();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k]) => k);
}

const iso = (us) => new Date(Math.floor(us / 1000)).toISOString();
// A plain decimal as written in JSON (no exponent), or null.
const decimal = (n) => {
  const s = String(n);
  return /e/i.test(s) ? null : s;
};

// Each query: { modifier, values, text } where text is the URL-encoded `name[:mod]=...` tail.
function q(modifier, values, escaped = values) {
  return { modifier, values, text: escaped.map(encodeURIComponent).join(',') };
}

/**
 * Queries for one parameter, given every resource's extracted entries (rows: [{entries, present}]).
 * `width` scales how many distinct values are tried.
 */
export function queriesFor(param, rows, { width = 3 } = {}) {
  const all = rows.flatMap((r) => r.entries);
  const out = [];
  const anyPresent = rows.some((r) => r.present);
  if (anyPresent) out.push(q('missing', ['true']), q('missing', ['false']));
  switch (param.type) {
    case 'token': {
      const codes = all.filter((e) => e.code !== undefined && !e.identifier && e.code !== '');
      const keys = byFrequency(codes.map((e) => JSON.stringify([e.system ?? null, e.code, Boolean(e.primitive)])));
      const picked = spread(keys, width).map((k) => JSON.parse(k));
      picked.forEach(([system, code, primitive], i) => {
        // Every form for the first (most common) value; the plain forms for the others.
        out.push(q('', [code], [esc(code)]));
        if (system !== null) out.push(q('', [`${system}|${code}`], [`${esc(system)}|${esc(code)}`]));
        if (!primitive && (i === 0 || system === null)) out.push(q('', [`|${code}`], [`|${esc(code)}`]));
        if (i > 0) return;
        if (system !== null) {
          out.push(q('', [`${system}|`], [`${esc(system)}|`]));
          out.push(q('not', [`${system}|${code}`], [`${esc(system)}|${esc(code)}`]));
        } else {
          out.push(q('not', [code], [esc(code)]));
        }
      });
      if (picked.length >= 2) out.push(q('', picked.slice(0, 2).map(([, c]) => c), picked.slice(0, 2).map(([, c]) => esc(c))));
      out.push(q('', ['oracle-no-such-code'], ['oracle-no-such-code']));
      const texts = byFrequency(all.flatMap((e) => e.texts ?? []).filter((t) => t.trim().length >= 3));
      for (const t of spread(texts, 2)) {
        const prefix = t.trim().slice(0, 4);
        out.push(q('text', [prefix], [esc(prefix)]));
      }
      const typed = all.flatMap((e) => (e.ofType ?? []).filter((c) => c.system && c.code).map((c) => [c.system, c.code, e.code]));
      for (const [s, c, v] of spread(byFrequency(typed.map((x) => JSON.stringify(x))), 2).map((k) => JSON.parse(k))) {
        if (v !== undefined) out.push(q('of-type', [`${s}|${c}|${v}`], [`${esc(s)}|${esc(c)}|${esc(v)}`]));
      }
      break;
    }
    case 'string': {
      const values = spread(byFrequency(all.map((e) => e.value)), width);
      for (const v of values) {
        const prefix = v.slice(0, Math.min(v.length, 3));
        out.push(q('', [prefix], [esc(prefix)]));
        out.push(q('', [prefix.toUpperCase()], [esc(prefix.toUpperCase())]));
        out.push(q('', [v], [esc(v)]));
        const stripped = v.normalize('NFD').replace(/\p{Mn}/gu, '');
        if (stripped !== v) out.push(q('', [stripped], [esc(stripped)]));
        out.push(q('exact', [v], [esc(v)]));
        if (v.toUpperCase() !== v) out.push(q('exact', [v.toUpperCase()], [esc(v.toUpperCase())]));
        if (v.length > 3) out.push(q('contains', [v.slice(1, 4)], [esc(v.slice(1, 4))]));
      }
      out.push(q('', ['zzqx-oracle'], ['zzqx-oracle']));
      break;
    }
    case 'date': {
      const finite = all.filter((e) => Number.isFinite(e.low) && e.low > -62135596800e6 && e.low < 253402300799e6);
      const values = spread(byFrequency(finite.map((e) => e.low)), Math.max(2, width - 1));
      values.forEach((low, i) => {
        const t = iso(low);
        const [year, month, day, second] = [t.slice(0, 4), t.slice(0, 7), t.slice(0, 10), `${t.slice(0, 19)}Z`];
        if (i === 0) {
          // Every prefix at day and second precision; the boundary-sensitive ones at year/month.
          for (const text of [day, second]) for (const p of PREFIXES) out.push(q('', [`${p}${text}`]));
          for (const text of [year, month]) for (const p of ['eq', 'ne', 'gt', 'lt', 'sa', 'eb']) out.push(q('', [`${p}${text}`]));
        } else {
          for (const p of ['eq', 'ge', 'le']) out.push(q('', [`${p}${day}`]));
          out.push(q('', [`lt${year}`]), q('', [`ap${month}`]));
        }
      });
      // A zone other than Z, and an OR of two values.
      if (values.length) {
        const d = new Date(Math.floor(values[0] / 1000) + 5 * 3600e3).toISOString();
        out.push(q('', [`ge${d.slice(0, 19)}+05:00`]));
        out.push(q('', values.slice(0, 2).map((v) => `eq${iso(v).slice(0, 10)}`)));
      }
      out.push(q('', ['eq1870-01-01']));
      break;
    }
    case 'reference': {
      const refs = all.filter((e) => e.id !== undefined && e.url === undefined);
      const keys = spread(byFrequency(refs.map((e) => `${e.type}/${e.id}`)), width);
      for (const k of keys) {
        const [type, id] = k.split('/');
        out.push(q('', [k]), q('', [id]), q(type, [id]));
      }
      if (keys.length >= 2) out.push(q('', keys.slice(0, 2)));
      const urls = spread(byFrequency(all.filter((e) => e.url !== undefined).map((e) => e.url)), 2);
      for (const u of urls) out.push(q('', [u], [esc(u)]));
      const ids = spread(byFrequency(all.filter((e) => e.identifier).map((e) => JSON.stringify([e.identifier.system ?? null, e.identifier.code]))), 2);
      for (const [s, c] of ids.map((k) => JSON.parse(k))) out.push(q('identifier', [s === null ? c : `${s}|${c}`], [s === null ? esc(c) : `${esc(s)}|${esc(c)}`]));
      out.push(q('', ['Patient/oracle-no-such-id']));
      break;
    }
    case 'number':
    case 'quantity': {
      const withNum = all.filter((e) => decimal(e.value) !== null);
      const keys = spread(byFrequency(withNum.map((e) => JSON.stringify([decimal(e.value), e.system ?? null, e.code ?? null, e.unit ?? null]))), width);
      keys.forEach((k, i) => {
        const [num, system, code, unit] = JSON.parse(k);
        for (const p of i === 0 ? PREFIXES : ['eq', 'gt', 'le', 'ap']) out.push(q('', [`${p}${num}`]));
        if (param.type === 'quantity') {
          if (system && code) out.push(q('', [`${num}|${system}|${code}`], [`${num}|${esc(system)}|${esc(code)}`]), q('', [`gt${num}|${system}|${code}`], [`gt${num}|${esc(system)}|${esc(code)}`]));
          if (code) out.push(q('', [`le${num}||${code}`], [`le${num}||${esc(code)}`]));
          if (unit && unit !== code) out.push(q('', [`${num}||${unit}`], [`${num}||${esc(unit)}`]));
        }
      });
      break;
    }
    case 'uri': {
      const values = spread(byFrequency(all.map((e) => e.value)), width);
      for (const v of values) {
        out.push(q('', [v], [esc(v)]));
        const slash = v.lastIndexOf('/');
        if (slash > 8) {
          out.push(q('below', [v.slice(0, slash)], [esc(v.slice(0, slash))]));
          out.push(q('above', [`${v}/oracle`], [esc(`${v}/oracle`)]));
        }
      }
      out.push(q('', ['urn:oracle:none']));
      break;
    }
    default:
      break;
  }
  return out;
}

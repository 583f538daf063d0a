// Composite parameters (search.html#composite): `code-value-quantity=http://loinc.org|1234-5$gt5`
// holds when one node the composite's expression yields satisfies every component, each
// component's expression evaluated relative to that node and matched by its own type's rules.
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';
import { extract, resourceMatches } from './match.mjs';
import { queriesFor } from './queries.mjs';

const compiled = new Map();
function relative(base, expression) {
  const key = `${base}\u0000${expression}`;
  if (!compiled.has(key)) compiled.set(key, fhirpath.compile({ base, expression }, r4model, { resolveInternalTypes: false }));
  return compiled.get(key);
}

/** Per resource: { present, nodes: [[entries of component 0], [entries of component 1], ...] }. */
export function compositeEntries(param, comps, resources, evaluator) {
  if (comps.some((c) => !c.def)) throw new Error('a component definition is missing from the package');
  const fn = evaluator(param.fhirpath);
  return resources.map((r) => {
    const nodes = fn(r).map((n) => comps.map((c) => {
      const base = n.path ?? r.resourceType;
      return relative(base, c.expression)(n.data ?? n).flatMap((x) => extract(c.type, x).entries);
    }));
    const complete = nodes.filter((cs) => cs.every((es) => es.length > 0));
    // :missing — as for the other types, a node counts when every component has a value.
    return { present: complete.length > 0, nodes: complete };
  });
}

/** Queries combining values that occur together in one node (and one combination that does not). */
export function compositeQueries(comps, rows, { width = 2 } = {}) {
  const out = [{ modifier: 'missing', values: ['true'], text: 'true' }, { modifier: 'missing', values: ['false'], text: 'false' }];
  const seen = rows.flatMap((r) => r.nodes);
  const picks = [];
  for (let i = 0; i < seen.length && picks.length < width; i += Math.max(1, Math.floor(seen.length / width))) picks.push(seen[i]);
  for (const node of picks) {
    // For each component, the queries its type would generate from this node's values alone;
    // combine the first few of each (the first component usually a token).
    const perComp = comps.map((c, k) =>
      queriesFor({ type: c.type }, [{ entries: node[k], present: true }], { width: 1 })
        .filter((q) => !q.modifier && q.values.length === 1 && !/oracle/.test(q.values[0]))
        .slice(0, c.type === 'token' ? 2 : 4),
    );
    const [first, ...rest] = perComp;
    for (const a of first) {
      for (const b of rest.length ? rest[0] : [null]) {
        const parts = [a, ...(b ? [b] : []), ...rest.slice(1).map((r) => r[0]).filter(Boolean)];
        if (parts.length !== comps.length) continue;
        // Inside a composite value `$` separates components; escape it inside each part.
        out.push({ modifier: '', values: [parts.map((p) => p.values[0])], text: parts.map((p) => p.text).join('$') });
      }
    }
  }
  if (picks.length) out.push({ modifier: '', values: [comps.map((c) => (c.type === 'token' ? 'oracle-none' : c.type === 'date' ? 'eq1870' : c.type === 'quantity' || c.type === 'number' ? '-12345' : 'oracle-none'))], text: comps.map((c) => encodeURIComponent(c.type === 'token' ? 'oracle-none' : c.type === 'date' ? 'eq1870' : c.type === 'quantity' || c.type === 'number' ? '-12345' : 'oracle-none')).join('$') });
  return out;
}

export function compositeResourceMatches(comps, query, row, nowUs) {
  if (query.modifier === 'missing') return query.values[0] === 'true' ? !row.present : row.present;
  return query.values.some((parts) => row.nodes.some((node) => comps.every((c, k) => resourceMatches(c.type, '', [parts[k]], { entries: node[k], present: true }, nowUs))));
}

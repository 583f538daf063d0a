// Rewrites the generator's transaction Bundles (PUT Type/id entries) as a client like Synthea
// sends them: POST entries with `urn:uuid:` fullUrls and references to those, so that the server
// assigns every id. The ingest benchmark's --post runs load these, which is the path of a real
// feed (the ids, and so the order of the id index's inserts, are the server's own).
// reference-data.json (practitioners, organizations, locations) is copied unchanged: it is loaded
// first, as Synthea's provider bundles are, and the patients' Bundles refer to its ids.
// usage: node bench/bundles_as_post.mjs <bundle-folder> <out-folder>
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error('usage: node bench/bundles_as_post.mjs <bundle-folder> <out-folder>');
  process.exit(2);
}
mkdirSync(to, { recursive: true });

// A stable urn per Type/id (name-based, SHA-1 as UUID version 5), so reruns produce equal input.
function urnOf(key) {
  const h = createHash('sha1').update(key).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function rewriteReferences(value, urns) {
  if (Array.isArray(value)) {
    for (const item of value) rewriteReferences(item, urns);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string' && urns.has(v)) value[k] = urns.get(v);
      else if (typeof v === 'object') rewriteReferences(v, urns);
    }
  }
}

let bundles = 0;
let entries = 0;
for (const file of readdirSync(from).filter((f) => f.endsWith('.json'))) {
  if (file === 'reference-data.json') {
    copyFileSync(path.join(from, file), path.join(to, file));
    continue;
  }
  const bundle = JSON.parse(readFileSync(path.join(from, file), 'utf8'));
  const urns = new Map();
  for (const e of bundle.entry) {
    if (e.request?.method === 'PUT') urns.set(e.request.url, urnOf(e.request.url));
  }
  for (const e of bundle.entry) {
    if (e.request?.method !== 'PUT') continue;
    e.fullUrl = urns.get(e.request.url);
    e.request = { method: 'POST', url: e.resource.resourceType };
    delete e.resource.id;
    rewriteReferences(e.resource, urns);
    entries++;
  }
  // fullUrl first, as clients write it (the server does not care about member order).
  bundle.entry = bundle.entry.map(({ fullUrl, ...rest }) => (fullUrl ? { fullUrl, ...rest } : rest));
  writeFileSync(path.join(to, file), JSON.stringify(bundle) + '\n');
  bundles++;
}
console.log(`bundles_as_post: ${bundles} Bundles, ${entries} entries rewritten as POST`);

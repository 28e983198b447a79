// Validates KEDA objects offline against the CRD schemas that @kubernetes-models/keda
// generates from KEDA's Go types (no cluster, no KEDA install).
//   node validate_keda.mjs <node_modules dir> < objects.json   (a JSON array of objects)
// Prints one line per object; exits 1 if any object fails.
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
const entry = path.join(modules, "@kubernetes-models", "keda", "keda.sh", "v1alpha1", "index.js");
const keda = await import(pathToFileURL(entry).href);

let failures = 0;
for (const doc of JSON.parse(readFileSync(0, "utf8"))) {
  const name = `${doc.kind}/${doc.metadata?.name}`;
  const Model = keda[doc.kind];
  if (!Model) {
    console.log(`FAIL ${name}: not a keda.sh/v1alpha1 kind`);
    failures += 1;
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`ok ${name}`);
  } catch (err) {
    console.log(`FAIL ${name}: ${err.message}`);
    failures += 1;
  }
}
process.exit(failures ? 1 : 0);

// node validate.mjs MANIFEST.json: checks a Teams app manifest the way Microsoft's tooling does, with the
// schema of its manifestVersion bundled in @microsoft/app-manifest (no network). Prints one JSON line,
// {"schema": ..., "errors": [...]}, and exits 1 when there are errors.
import { readFileSync, existsSync } from "node:fs";
import appManifest from "@microsoft/app-manifest";

const { AppManifestUtils, TeamsManifestConverter } = appManifest;

const text = readFileSync(process.argv[2], "utf8");
const version = JSON.parse(text).manifestVersion;
const schemaPath = new URL(
  `./node_modules/@microsoft/app-manifest/build/json-schemas/teams/v${version}/MicrosoftTeams.schema.json`,
  import.meta.url,
);
if (!existsSync(schemaPath)) {
  console.log(JSON.stringify({ schema: null, errors: [`no bundled schema for manifestVersion ${version}`] }));
  process.exit(1);
}
// The same repair the package applies to downloaded schemas: one pattern uses \a, which JavaScript rejects.
const schema = JSON.parse(readFileSync(schemaPath, "utf8").replace(/\\a/g, "\\x07"));
const errors = await AppManifestUtils.validateAgainstSchema(JSON.parse(text), schema);
try {
  TeamsManifestConverter.jsonToManifest(text); // the package's own type checks, on top of the schema
} catch (error) {
  errors.push(String(error && error.message ? error.message : error));
}
console.log(JSON.stringify({ schema: schemaPath.pathname, errors }));
process.exit(errors.length ? 1 : 0);

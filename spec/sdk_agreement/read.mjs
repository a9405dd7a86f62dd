// Reads LocalProvider's streams through the providers' official SDKs and prints
// what each SDK made of them, for spec/sdk_agreement/official_sdks_agreement.rb
// to hold against the gem's reading of the same scripts.
//
// stdin:  [{dialect, scenario, base_url, model, api_key}, ...]
// stdout: [{dialect, scenario, reading} | {dialect, scenario, error}, ...]
//
// A reading is {text, thinking, thinking_blocks, tool_calls: [{id, name, arguments}], usage,
// stop_reason}
// in the gem's terms (readers/reading.mjs). Each dialect's reader is
// readers/<dialect>.mjs, exporting read({baseUrl, model, apiKey}).
import { readFileSync } from "node:fs";

const cases = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const { dialect, scenario, base_url: baseUrl, model, api_key: apiKey } of cases) {
  try {
    const reader = await import(`./readers/${dialect}.mjs`);
    results.push({ dialect, scenario, reading: await reader.read({ baseUrl, model, apiKey }) });
  } catch (error) {
    results.push({ dialect, scenario, error: String(error?.stack ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));

// Compiles the repository's test contracts (contracts/src/test) with solc-js at test time.
// OpenZeppelin imports resolve from this package's node_modules (pinned in package-lock.json);
// the settings match contracts/build.js, so the output equals the committed artifacts.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG = path.resolve(HERE, "..");
export const CONTRACTS = path.resolve(PKG, "../../../contracts");
const PINNED_SOLC = JSON.parse(fs.readFileSync(path.join(PKG, "package.json"), "utf8")).dependencies.solc;

function findImport(name) {
  const dep = path.join(PKG, "node_modules", name);
  if (fs.existsSync(dep)) return { contents: fs.readFileSync(dep, "utf8") };
  const local = path.join(CONTRACTS, name);
  if (fs.existsSync(local)) return { contents: fs.readFileSync(local, "utf8") };
  return { error: `import not found: ${name}` };
}

/// Compiles contracts/src/test/<file> for each file; returns { ContractName: {abi, bytecode, deployedBytecode} }.
export function compileTestContracts(files) {
  const version = solc.version();
  if (!version.startsWith(PINNED_SOLC + "+")) {
    throw new Error(`solc ${version} is installed, package.json pins ${PINNED_SOLC}: run npm ci`);
  }
  const sources = {};
  for (const f of files) {
    const unit = `src/test/${f}`;
    sources[unit] = { content: fs.readFileSync(path.join(CONTRACTS, unit), "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
      metadata: { appendCBOR: false },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    throw new Error("solc failed:\n" + errors.map((e) => e.formattedMessage).join("\n"));
  }
  const out = {};
  for (const unit of Object.keys(sources)) {
    for (const [name, c] of Object.entries(output.contracts[unit])) {
      out[name] = {
        abi: c.abi,
        bytecode: "0x" + c.evm.bytecode.object,
        deployedBytecode: "0x" + c.evm.deployedBytecode.object,
      };
    }
  }
  return out;
}

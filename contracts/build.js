// Compiles every contract under src/ with the pinned solc (package.json) and writes one
// artifact per contract to artifacts/<Name>.json: { contractName, sourceName, abi,
// bytecode, deployedBytecode }. The output depends only on the sources, the pinned
// compiler and the settings below, so running it again reproduces the files byte for byte.
"use strict";

const fs = require("fs");
const path = require("path");
const solc = require("solc");

const ROOT = __dirname;
const SRC = path.join(ROOT, "src");
const OUT = path.join(ROOT, "artifacts");
const EXPECTED_SOLC = require("./package.json").dependencies.solc;

function listSol(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return listSol(p);
      return e.name.endsWith(".sol") ? [p] : [];
    });
}

function findImport(name) {
  // Only dependencies pinned in package-lock.json are importable.
  const candidate = path.join(ROOT, "node_modules", name);
  if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  return { error: `import not found: ${name}` };
}

function main() {
  const version = solc.version();
  if (!version.startsWith(EXPECTED_SOLC + "+")) {
    throw new Error(`solc ${version} is installed, package.json pins ${EXPECTED_SOLC}: run npm ci`);
  }
  const sources = {};
  for (const file of listSol(SRC)) {
    const unit = path.relative(ROOT, file).split(path.sep).join("/");
    sources[unit] = { content: fs.readFileSync(file, "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
      // No metadata hash: bytecode depends on code, not on comments or paths.
      metadata: { appendCBOR: false },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) console.error(e.formattedMessage);
  if (errors.length > 0) process.exit(1);

  fs.mkdirSync(OUT, { recursive: true });
  for (const old of fs.readdirSync(OUT)) {
    if (old.endsWith(".json")) fs.unlinkSync(path.join(OUT, old));
  }
  let count = 0;
  for (const sourceName of Object.keys(output.contracts).sort()) {
    if (!sourceName.startsWith("src/")) continue; // dependencies are not our artifacts
    for (const contractName of Object.keys(output.contracts[sourceName]).sort()) {
      const c = output.contracts[sourceName][contractName];
      const artifact = {
        contractName,
        sourceName,
        compiler: `solc ${version}`,
        abi: c.abi,
        bytecode: "0x" + c.evm.bytecode.object,
        deployedBytecode: "0x" + c.evm.deployedBytecode.object,
      };
      fs.writeFileSync(path.join(OUT, `${contractName}.json`), JSON.stringify(artifact, null, 2) + "\n");
      count++;
    }
  }
  console.log(`compiled ${Object.keys(sources).length} sources with solc ${version}: ${count} artifacts in artifacts/`);
}

main();

#!/usr/bin/env node
// Fails when the relative imports of the engine's sources form a cycle: the
// protocol modules must stay a DAG (issue 13). Usage: check-imports.mjs [dir]
// (default: assembly). Reads `import ... from "./x"` and `import "./x"`
// lines, resolves them against the importing file and prints each cycle as
// a -> b -> a.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? "assembly");
const importLine = /^\s*(?:import|export)\s+(?:[^"';]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;

function sources(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sources(path));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) files.push(path);
  }
  return files;
}

function resolveImport(from, spec) {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  return null;
}

const graph = new Map();
const unresolved = [];
for (const file of sources(root)) {
  const deps = [];
  for (const m of readFileSync(file, "utf8").matchAll(importLine)) {
    const target = resolveImport(file, m[1]);
    if (target) deps.push(target);
    else unresolved.push(`${relative(root, file)}: ${m[1]}`);
  }
  graph.set(file, deps);
}

// Depth-first search; a back edge to a file still on the stack closes a cycle.
const state = new Map(); // file -> "active" | "done"
const stack = [];
const cycles = [];
function visit(file) {
  state.set(file, "active");
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (state.get(dep) === "active") {
      cycles.push([...stack.slice(stack.indexOf(dep)), dep].map((f) => relative(root, f)).join(" -> "));
    } else if (!state.has(dep)) {
      visit(dep);
    }
  }
  stack.pop();
  state.set(file, "done");
}
for (const file of graph.keys()) if (!state.has(file)) visit(file);

for (const u of unresolved) console.error(`unresolved import: ${u}`);
for (const c of cycles) console.error(`import cycle: ${c}`);
if (cycles.length > 0 || unresolved.length > 0) process.exit(1);
console.log(`${graph.size} modules under ${relative(process.cwd(), root) || "."}: no import cycle`);

#!/usr/bin/env node
// Generates the typed protobuf codec (src/proto/gen/codec.{js,d.ts}) from our .proto files.
// Runs before tsc in `npm run build`; the output is not committed. Skips work when it is up to date.
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const dir = __dirname;
const protos = ["orchestrator_service.proto", "backend_service.proto"].map((f) => path.join(dir, f));
const outDir = path.join(dir, "gen");
const js = path.join(outDir, "codec.js");
const dts = path.join(outDir, "codec.d.ts");

const newest = Math.max(...protos.map((p) => fs.statSync(p).mtimeMs), fs.statSync(__filename).mtimeMs);
if (fs.existsSync(js) && fs.existsSync(dts) && fs.statSync(dts).mtimeMs >= newest) process.exit(0);

fs.mkdirSync(outDir, { recursive: true });
const bin = path.dirname(require.resolve("protobufjs-cli/package.json"));
const pbjs = path.join(bin, "bin", "pbjs");
const pbts = path.join(bin, "bin", "pbts");
const common = ["-t", "static-module", "-w", "commonjs", "--no-verify", "--no-delimited", "--no-convert",
  "--no-service", "--force-number", "-p", dir, ...protos];
const withDocs = path.join(outDir, "codec.doc.js");
execFileSync(process.execPath, [pbjs, ...common, "-o", withDocs], { stdio: "inherit" });
execFileSync(process.execPath, [pbts, "-o", dts, withDocs], { stdio: "inherit" });
fs.rmSync(withDocs);
execFileSync(process.execPath, [pbjs, ...common, "--no-comments", "-o", js], { stdio: "inherit" });

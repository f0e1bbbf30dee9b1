#!/usr/bin/env node
// Generates the typed protobuf codec (src/proto/gen/codec.{js,d.ts}) from our .proto files.
// Runs before tsc in `npm run build`; the output is not committed. Skips work when it is up to date.
// `generateCodec` is also used by scale/build-codec.js for the KEDA external scaler's codec.
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

/**
 * Writes `<outDir>/codec.js` and `codec.d.ts` (protobufjs static module) for `protos`, unless they are
 * newer than the protos and `extraInputs` (e.g. the calling script). `root` names the protobuf.roots
 * entry, so two generated codecs never share one root.
 */
function generateCodec({ protos, outDir, root = "default", extraInputs = [] }) {
  const js = path.join(outDir, "codec.js");
  const dts = path.join(outDir, "codec.d.ts");
  const newest = Math.max(...[...protos, ...extraInputs, __filename].map((p) => fs.statSync(p).mtimeMs));
  if (fs.existsSync(js) && fs.existsSync(dts) && fs.statSync(dts).mtimeMs >= newest) return;

  fs.mkdirSync(outDir, { recursive: true });
  const bin = path.dirname(require.resolve("protobufjs-cli/package.json"));
  const pbjs = path.join(bin, "bin", "pbjs");
  const pbts = path.join(bin, "bin", "pbts");
  const common = ["-t", "static-module", "-w", "commonjs", "-r", root, "--no-verify", "--no-delimited", "--no-convert",
    "--no-service", "--force-number", "-p", path.dirname(protos[0]), ...protos];
  const withDocs = path.join(outDir, "codec.doc.js");
  execFileSync(process.execPath, [pbjs, ...common, "-o", withDocs], { stdio: "inherit" });
  execFileSync(process.execPath, [pbts, "-o", dts, withDocs], { stdio: "inherit" });
  fs.rmSync(withDocs);
  execFileSync(process.execPath, [pbjs, ...common, "--no-comments", "-o", js], { stdio: "inherit" });
}

module.exports = { generateCodec };

if (require.main === module) {
  generateCodec({
    protos: ["orchestrator_service.proto", "backend_service.proto", "completion_stream.proto"].map((f) => path.join(__dirname, f)),
    outDir: path.join(__dirname, "gen"),
  });
}

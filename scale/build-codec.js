#!/usr/bin/env node
// Generates the KEDA external scaler's codec (scale/gen/codec.{js,d.ts}) from externalscaler.proto
// with the same generator as the scheduler's codec; runs in `npm run build`. The output is not committed.
"use strict";
const path = require("path");
const { generateCodec } = require("../src/proto/build-codec");

generateCodec({
  protos: [path.join(__dirname, "externalscaler.proto")],
  outDir: path.join(__dirname, "gen"),
  root: "externalscaler",
  extraInputs: [__filename],
});

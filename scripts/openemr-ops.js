#!/usr/bin/env node
// Runs the TypeScript command line directly (no build step): ts-node compiles each module on
// load, type-checking left to `npm run build`.
const path = require("node:path");

require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
require("./cli")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });

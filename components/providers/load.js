// The package's entry as the dynamic-provider host requires it. The host is plain Node: the TypeScript sources are
// compiled as they load, by the ts-node the program runs with (transpile only, the program's tsconfig), unless the
// process already compiles TypeScript (the program itself, its tests).
"use strict";
const path = require("path");
if (!require.extensions[".ts"]) require("ts-node").register({ transpileOnly: true, projectSearchDir: path.join(__dirname, "..", "..") });
module.exports = require("./registry");

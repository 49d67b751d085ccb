#!/usr/bin/env node
console.log("olares-cli: not built yet")

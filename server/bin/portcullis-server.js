#!/usr/bin/env node
import { processIo, runServerCli } from '../dist/src/cli.js';

process.exitCode = await runServerCli(process.argv.slice(2), processIo());

// A second process for the outbox tests: opens the outbox of a state directory with the
// configuration and the SMTP_* environment it is given, waits for a line on stdin (so
// that several flush at the same moment), flushes it once and prints what it did as JSON.

import { loadConfig } from '../../dist/config/load.js';
import { Outbox } from '../../dist/delivery/outbox.js';
import { systemClock } from '../../dist/util/clock.js';
import { createLogger } from '../../dist/util/logger.js';

const [configFile, dir] = process.argv.slice(2);
const outbox = new Outbox({ dir, config: loadConfig(configFile), log: createLogger({ level: 'info', fd: 2 }), clock: systemClock });
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
process.stdin.destroy();
const result = await outbox.flush();
await outbox.stop();
process.stdout.write(`${JSON.stringify(result)}\n`);

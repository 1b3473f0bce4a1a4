#!/usr/bin/env node
/** The wharf-agent command: parse flags, start, stop on SIGINT/SIGTERM (containers keep running). */
import { pino } from 'pino';
import { WHARF_VERSION } from '@wharf/types';
import { startAgent } from './agent.js';
import { ConfigError, USAGE, parseCli } from './config.js';

async function main(): Promise<number> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`wharf-agent: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (cli.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cli.kind === 'version') {
    process.stdout.write(`wharf-agent ${WHARF_VERSION}\n`);
    return 0;
  }
  const logger = pino({ name: 'wharf-agent', level: cli.logLevel }, pino.destination(2));
  let agent;
  try {
    agent = await startAgent({ ...cli.config, logger });
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'cannot start');
    return 1;
  }
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'stopping (containers keep running)');
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await agent.stop();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`wharf-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);

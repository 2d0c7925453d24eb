// Every `hazwatch <command>`, in the order `hazwatch --help` lists them.
import type { Command } from '../core/command.ts';
import { startCommand } from './start.ts';
import { brokerCommand } from '../broker/command.ts';
import { ingestCommand } from '../ingest/command.ts';
import { rulesCommand } from '../rules/command.ts';
import { apiCommand } from '../api/command.ts';
import { gatewayCommand } from '../gateway/command.ts';
import { sparkplugCommand } from '../sparkplug/command.ts';
import { vendorCommand } from '../vendor/command.ts';
import { northboundCommand } from '../northbound/command.ts';
import { simulateCommand } from '../simulators/command.ts';
import { modbusSimCommand } from '../simulators/modbus/command.ts';
import { sparkplugSimCommand } from '../simulators/sparkplug-command.ts';
import { dashboardsCommand } from '../dashboards/command.ts';
import { deviceCommand } from '../registry/command.ts';
import { configCommand } from './config-command.ts';
import { replayCommand } from './replay.ts';

export const COMMANDS: Command[] = [
  startCommand,
  brokerCommand,
  ingestCommand,
  rulesCommand,
  apiCommand,
  gatewayCommand,
  sparkplugCommand,
  vendorCommand,
  northboundCommand,
  simulateCommand,
  modbusSimCommand,
  sparkplugSimCommand,
  dashboardsCommand,
  deviceCommand,
  replayCommand,
  configCommand,
];

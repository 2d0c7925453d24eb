import { startCommand } from './start.ts';
import { brokerCommand } from '../broker/command.ts';
import { ingestCommand } from '../ingest/command.ts';
import { rulesCommand } from '../rules/command.ts';
import { apiCommand } from '../api/command.ts';
import { gatewayCommand } from '../gateway/command.ts';
import { simulateCommand } from '../simulators/command.ts';
import { dashboardsCommand } from '../dashboards/command.ts';
import { deviceCommand } from '../registry/command.ts';
import { configCommand } from './config-command.ts';
export const COMMANDS = [
    startCommand,
    brokerCommand,
    ingestCommand,
    rulesCommand,
    apiCommand,
    gatewayCommand,
    simulateCommand,
    dashboardsCommand,
    deviceCommand,
    configCommand,
];

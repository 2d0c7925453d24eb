// The simulators as a library: device models (also served on Modbus TCP by simulators/modbus/),
// scenarios with their expected alarms, and the MQTT fleet. See docs/simulators.md.
export { createModel, CLASS_FAULTS, supportsFault, vesselLimits, combustibleSetpoints, toxicSetpoints } from './models/index.ts';
export type { DeviceModel, ModelOptions, StepResult, ModelEvent, ActiveFault, VesselLimits } from './models/index.ts';
export { Fault, FAULT_KINDS, COMMON_FAULTS, MALFORMED_VARIANTS, type FaultInput, type FaultKind, type MalformedVariant } from './faults.ts';
export { createRandom, deviceSeed, hashSeed } from './random.ts';
export { createClock, type SimClock } from './clock.ts';
export { parseDuration, formatDuration } from './duration.ts';
export { encodeStep, malformedMessage, statusPayload, type OutMessage } from './messages.ts';
export { createSimulation, type SimDevice, type Simulation, type Report, type SentRejection } from './simulation.ts';
export { Scenario, loadScenario, parseScenario, planScenario, type ScenarioPlan, type ExpectedAlarm, type PlannedFault } from './scenario.ts';
export { fleetDevices, parseMix, allocate, defaultMeta, DEFAULT_MIX } from './mix.ts';
export { provisionDevices, readCredentialsFile, writeCredentialsFile } from './provision.ts';
export { startFleet, runFleet, type Fleet, type FleetOptions, type FleetStats, type FleetSummary } from './fleet.ts';
export { startRun, expectedDocument, writeExpected, formatSummary, type Run, type RunOptions } from './run.ts';
export { simulateConfig, type SimulateConfig } from './config.ts';
export { runOffline, type OfflineRun, type OfflineMessage } from './offline.ts';

// Settings of `hazwatch ingest`: the `ingest` section of the configuration file, HAZWATCH_INGEST_* in the environment.
import { z } from 'zod';

export const ingestConfig = z
  .object({})
  .strict()
  .prefault({});
export type IngestConfig = z.infer<typeof ingestConfig>;

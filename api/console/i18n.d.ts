// Types of the console's i18n module for the TypeScript tests that check its wording against real alarms.
export declare const LANGS: readonly string[];
export declare function texts(lang: string): Record<string, unknown>;
export declare function alarmDetail(
  alarm: { enterprise: string; condition: string; deviceClass: string; metric: string | null; value: number | boolean | null; threshold: number | null; message: string; messageZh?: string | null },
  catalog: { conditions?: Record<string, { zh: string; source: string }>; deviceClasses?: Record<string, { metrics: Record<string, { unit: string; zh: string }> }> },
  lang: string,
): string;

// Structured logs (one JSON object a line, as CloudWatch Logs Insights reads them).

export const log = {
  info: (msg: string, detail: object = {}) =>
    console.log(JSON.stringify({ level: "info", msg, ...detail })),
  error: (msg: string, detail: object = {}) =>
    console.error(JSON.stringify({ level: "error", msg, ...detail })),
};

export const describeError = (err: unknown) => ({
  error: err instanceof Error ? err.name : typeof err,
  message: err instanceof Error ? err.message : String(err),
  ...(err instanceof Error && err.cause !== undefined ? { cause: String(err.cause) } : {}),
});

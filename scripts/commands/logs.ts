// `openemr-ops logs`: the host's logs from CloudWatch Logs, `<logGroupPrefix>/<name>`.
import { FilterLogEventsCommand, type FilteredLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import { awsCall, EXIT_OK, OpsError } from "../lib/errors";
import { sleep, type Context } from "../lib/context";
import { requireOutputs } from "../lib/stack-outputs";

export interface LogsOptions {
  log: string;
  sinceMs: number;
  filter?: string;
  limit: number;
  follow?: boolean;
  /** Only this host's stream (streams are named by instance id); all streams when absent. */
  instance?: string;
}

async function fetchEvents(
  ctx: Context,
  group: string,
  startTime: number,
  options: LogsOptions,
): Promise<FilteredLogEvent[]> {
  const events: FilteredLogEvent[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall(`CloudWatch Logs FilterLogEvents on ${group}`, () =>
      ctx.aws.logs.send(
        new FilterLogEventsCommand({
          logGroupName: group,
          startTime,
          filterPattern: options.filter,
          nextToken: token,
          ...(options.instance ? { logStreamNames: [options.instance] } : {}),
        }),
      ),
    ).catch((error: OpsError) => {
      if (error.message.includes("ResourceNotFoundException"))
        throw new OpsError(
          `log group ${group} does not exist: the host has not shipped ${options.log} yet ` +
            "(is the CloudWatch agent running?)",
        );
      throw error;
    });
    events.push(...(page.events ?? []));
    token = page.nextToken;
  } while (token && events.length < options.limit);
  return events;
}

function render(event: FilteredLogEvent): string {
  const time = new Date(event.timestamp ?? 0).toISOString();
  return `${time} ${event.logStreamName ?? "-"} ${(event.message ?? "").trimEnd()}`;
}

export async function logs(ctx: Context, options: LogsOptions): Promise<number> {
  const { logGroupPrefix } = requireOutputs(ctx.outputs, "logs", ["logGroupPrefix"]);
  const group = `${logGroupPrefix.replace(/\/+$/, "")}/${options.log}`;
  const events = (await fetchEvents(ctx, group, Date.now() - options.sinceMs, options)).slice(-options.limit);
  if (ctx.json && !options.follow) {
    ctx.io.out(
      JSON.stringify(
        {
          command: "logs",
          logGroup: group,
          events: events.map((event) => ({
            timestamp: new Date(event.timestamp ?? 0).toISOString(),
            stream: event.logStreamName,
            message: event.message,
          })),
        },
        null,
        2,
      ),
    );
    return EXIT_OK;
  }
  const print = (event: FilteredLogEvent) =>
    ctx.io.out(
      ctx.json
        ? JSON.stringify({
            timestamp: new Date(event.timestamp ?? 0).toISOString(),
            stream: event.logStreamName,
            message: event.message,
          })
        : render(event),
    );
  events.forEach(print);
  if (!options.follow) return EXIT_OK;
  // Following: poll from the newest timestamp seen, skipping events already printed at that instant.
  const seen = new Set(events.map((event) => event.eventId));
  let from = events.length ? (events[events.length - 1].timestamp ?? Date.now()) : Date.now();
  for (;;) {
    await sleep(Math.max(ctx.pollIntervalMs, 1000));
    for (const event of await fetchEvents(ctx, group, from, options)) {
      if (seen.has(event.eventId)) continue;
      seen.add(event.eventId);
      from = Math.max(from, event.timestamp ?? from);
      print(event);
    }
  }
}

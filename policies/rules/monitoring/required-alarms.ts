import type { Outcome, RuleResource, StackRule } from "../types";
import { AwsType, loadBalancerTypes } from "../resource-types";
import { citeInferred } from "../citations";
import { all, asArray, fail, failProperty, label, pass, resultFor, show } from "../outcomes";
import { identities, ofType } from "../joins";
import { actionsDisabled } from "./alarm-has-actions";

/**
 * The backup-age signal the host publishes (docs/host-interface.md): namespace, metric, and the
 * missing-data treatment that makes silence an alarm.
 */
export const BACKUP_METRIC = { namespace: "OpenEMR", metricName: "BackupSuccess", treatMissingData: "breaching" };

/**
 * On `single`, the binary log shipping signal (every four minutes) that keeps the recovery point
 * at minutes: silence must alarm too.
 */
export const BINLOG_METRIC = { namespace: "OpenEMR", metricName: "BinlogShipSuccess", treatMissingData: "breaching" };

/** The alarm on a host signal (`metric`) whose silence must alarm: pass, or a failure naming what is wrong. */
function signalOutcome(
  metrics: WatchedMetric[],
  host: RuleResource,
  metric: typeof BACKUP_METRIC,
  what: string,
  why: string,
): Outcome {
  const alarm = metrics.find(
    (candidate) => candidate.namespace === metric.namespace && candidate.metricName === metric.metricName,
  );
  if (!alarm)
    return fail(
      host,
      `no ${AwsType.metricAlarm} watches ${metric.namespace}/${metric.metricName} (${what}); expected one`,
      {
        "alarm.metricName": null,
      },
    );
  if (alarm.alarm.props.treatMissingData !== metric.treatMissingData)
    return fail(
      alarm.alarm,
      `treatMissingData is ${JSON.stringify(alarm.alarm.props.treatMissingData ?? null)}; ` +
        `expected "${metric.treatMissingData}" (${why})`,
      { treatMissingData: alarm.alarm.props.treatMissingData ?? null },
    );
  return pass({
    [`${alarm.alarm.name}.metricName`]: alarm.metricName,
    [`${alarm.alarm.name}.treatMissingData`]: metric.treatMissingData,
  });
}

interface WatchedMetric {
  alarm: RuleResource;
  namespace?: string;
  metricName?: string;
  dimensions: Record<string, unknown>;
}

/** Every metric an alarm watches, whether declared directly or through metric queries. */
function watchedMetrics(alarm: RuleResource): WatchedMetric[] {
  const direct = alarm.props.namespace
    ? [
        {
          alarm,
          namespace: alarm.props.namespace,
          metricName: alarm.props.metricName,
          dimensions: alarm.props.dimensions ?? {},
        },
      ]
    : [];
  const queries = asArray<any>(alarm.props.metricQueries)
    .filter((query) => query?.metric)
    .map((query) => ({
      alarm,
      namespace: query.metric.namespace,
      metricName: query.metric.metricName,
      dimensions: query.metric.dimensions ?? {},
    }));
  return [...direct, ...queries];
}

/**
 * The first metric in `namespaces` whose `dimension` holds one of `names` (the subject's id,
 * identifier or ARN suffix).
 */
function watching(
  metrics: WatchedMetric[],
  namespaces: string[],
  dimension: string,
  names: unknown[],
): WatchedMetric | undefined {
  return metrics.find(
    (metric) =>
      namespaces.includes(metric.namespace ?? "") &&
      typeof metric.dimensions[dimension] === "string" &&
      names.includes(metric.dimensions[dimension]),
  );
}

/**
 * What must watch an Auto Scaling group of hosts. Its hosts come and go, so no alarm can name one
 * by its instance id: each is watched through the group's name, the CloudWatch agent's memory and
 * root disk use (published by AutoScalingGroupName, docs/ha.md) and the group's own
 * count of hosts in service.
 */
const GROUP_ALARMS: { what: string; namespace: string; metricNames: string[]; path?: string }[] = [
  { what: "the hosts' memory", namespace: "CWAgent", metricNames: ["mem_used_percent"] },
  { what: "the hosts' root disk", namespace: "CWAgent", metricNames: ["disk_used_percent"], path: "/" },
  {
    what: "the hosts in service",
    namespace: "AWS/AutoScaling",
    metricNames: ["GroupInServiceInstances", "GroupInServiceCapacity"],
  },
];

/** The group's alarm of one kind (`wanted`): present, notifying, and on a metric the group publishes. */
function groupAlarmOutcome(
  metrics: WatchedMetric[],
  group: RuleResource,
  wanted: (typeof GROUP_ALARMS)[number],
): Outcome {
  const names = identities(group);
  const expected =
    `${wanted.namespace} ${wanted.metricNames.join(" or ")} with dimensions.AutoScalingGroupName ` +
    `${show(group.props.name ?? names[0])}${wanted.path ? ` and dimensions.path ${show(wanted.path)}` : ""}`;
  const candidates = metrics.filter(
    (metric) =>
      metric.namespace === wanted.namespace &&
      wanted.metricNames.includes(metric.metricName ?? "") &&
      names.includes(metric.dimensions.AutoScalingGroupName as string) &&
      (wanted.path === undefined || metric.dimensions.path === wanted.path),
  );
  const notifying = candidates.filter(
    (metric) => !actionsDisabled(metric.alarm) && asArray(metric.alarm.props.alarmActions).length > 0,
  );
  if (notifying.length === 0) {
    const mute = candidates[0]?.alarm;
    return fail(
      group,
      mute
        ? `${label(mute)} watches ${wanted.what} but notifies nobody (alarmActions ${show(mute.props.alarmActions)}, ` +
            `actionsEnabled ${show(mute.props.actionsEnabled ?? true)}); expected alarmActions naming the alert topic`
        : `no ${AwsType.metricAlarm} watches ${wanted.what}; ` +
            `expected an alarm on ${expected}, with alarmActions naming the alert topic`,
      mute
        ? {
            [`${mute.name}.alarmActions`]: mute.props.alarmActions ?? null,
            [`${mute.name}.actionsEnabled`]: mute.props.actionsEnabled ?? true,
          }
        : { "alarm.dimensions.AutoScalingGroupName": null },
    );
  }
  // Auto Scaling publishes a group metric only while the group collects it (enabledMetrics).
  const collected = asArray<string>(group.props.enabledMetrics);
  const alarm =
    wanted.namespace === "AWS/AutoScaling"
      ? notifying.find((metric) => collected.includes(metric.metricName ?? ""))
      : notifying[0];
  if (!alarm)
    return failProperty(
      group,
      "enabledMetrics",
      group.props.enabledMetrics,
      `it to include ${show(notifying[0].metricName)}, which ${label(notifying[0].alarm)} watches ` +
        "(Auto Scaling publishes no group metric it does not collect)",
    );
  return pass({
    [`${alarm.alarm.name}.metricName`]: alarm.metricName,
    [`${alarm.alarm.name}.dimensions.AutoScalingGroupName`]: alarm.dimensions.AutoScalingGroupName,
    [`${alarm.alarm.name}.alarmActions`]: alarm.alarm.props.alarmActions,
  });
}

/** Like `all`, but a failure names every gap of `subject` at once, so one audit lists each missing alarm. */
function everyFailure(subject: RuleResource, outcomes: Outcome[]): Outcome {
  const failed = outcomes.filter(
    (outcome): outcome is Extract<Outcome, { status: "fail" }> => outcome.status === "fail",
  );
  if (failed.length < 2) return all(outcomes);
  const prefix = `${label(subject)}: `;
  return fail(
    subject,
    failed.map((outcome) => outcome.message.replace(prefix, "")).join("; "),
    Object.assign({}, ...failed.map((outcome) => outcome.evidence)),
  );
}

export const requiredAlarms: StackRule = {
  kind: "stack",
  id: "required-alarms",
  area: "monitoring",
  description:
    "The baseline alarm set exists: each host (AWS/EC2 or CWAgent, by InstanceId) and the backup age on it " +
    "(OpenEMR BackupSuccess, missing data breaching; on the single tier also OpenEMR BinlogShipSuccess, " +
    "missing data breaching), each Auto Scaling group of hosts (CWAgent mem_used_percent, CWAgent " +
    'disk_used_percent of path "/" and AWS/AutoScaling GroupInServiceInstances or GroupInServiceCapacity, ' +
    "each by AutoScalingGroupName, each with alarm actions, the last collected by the group), each RDS " +
    "instance (AWS/RDS, by DBInstanceIdentifier) and each load balancer (AWS/ApplicationELB, by LoadBalancer).",
  citations: citeInferred("164.308(a)(1)(ii)(D)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Declare aws.cloudwatch.MetricAlarm resources for the missing subject, " +
    "with the dimension naming it, notifying the alert topic; for an Auto Scaling group, also list the " +
    "in-service alarm's metric in the group's enabledMetrics.",
  evaluate(resources, { settings }) {
    const metrics = ofType(resources, AwsType.metricAlarm).flatMap(watchedMetrics);
    const missing = (subject: RuleResource, what: string, dimension: string): Outcome =>
      fail(
        subject,
        `no ${AwsType.metricAlarm} watches ${what} with dimensions.${dimension} naming it; expected a baseline alarm`,
        { [`alarm.dimensions.${dimension}`]: null },
      );
    const found = (metric: WatchedMetric, dimension: string): Outcome =>
      pass({
        [`${metric.alarm.name}.namespace`]: metric.namespace,
        [`${metric.alarm.name}.dimensions.${dimension}`]: metric.dimensions[dimension],
      });

    const hosts = ofType(resources, AwsType.instance).map((host) => {
      const hostAlarm = watching(metrics, ["AWS/EC2", "CWAgent"], "InstanceId", identities(host));
      const backupOutcome = signalOutcome(
        metrics,
        host,
        BACKUP_METRIC,
        "the age of the host's last backup",
        "no backup reported must alarm",
      );
      const binlogOutcomes =
        settings.tier === "single"
          ? [
              signalOutcome(
                metrics,
                host,
                BINLOG_METRIC,
                "the host's binary log shipping",
                "no binary log shipped must alarm",
              ),
            ]
          : [];
      return resultFor(
        host,
        all([
          hostAlarm ? found(hostAlarm, "InstanceId") : missing(host, "the host (AWS/EC2 or CWAgent)", "InstanceId"),
          backupOutcome,
          ...binlogOutcomes,
        ]),
      );
    });
    const databases = ofType(resources, AwsType.rdsInstance).map((database) => {
      const alarm = watching(metrics, ["AWS/RDS"], "DBInstanceIdentifier", identities(database));
      return resultFor(
        database,
        alarm
          ? found(alarm, "DBInstanceIdentifier")
          : missing(database, "the database (AWS/RDS)", "DBInstanceIdentifier"),
      );
    });
    const balancers = ofType(resources, ...loadBalancerTypes).map((balancer) => {
      const alarm = watching(metrics, ["AWS/ApplicationELB"], "LoadBalancer", [balancer.props.arnSuffix]);
      return resultFor(
        balancer,
        alarm
          ? found(alarm, "LoadBalancer")
          : missing(balancer, "the load balancer (AWS/ApplicationELB)", "LoadBalancer"),
      );
    });
    const groups = ofType(resources, AwsType.autoscalingGroup).map((group) =>
      resultFor(
        group,
        everyFailure(
          group,
          GROUP_ALARMS.map((wanted) => groupAlarmOutcome(metrics, group, wanted)),
        ),
      ),
    );
    return [...hosts, ...groups, ...databases, ...balancers];
  },
};

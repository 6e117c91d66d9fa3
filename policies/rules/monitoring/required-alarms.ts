import type { Outcome, RuleResource, StackRule } from "../types";
import { AwsType, loadBalancerTypes } from "../resource-types";
import { citeInferred } from "../citations";
import { all, asArray, fail, pass, resultFor } from "../outcomes";
import { identities, ofType } from "../joins";

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

export const requiredAlarms: StackRule = {
  kind: "stack",
  id: "required-alarms",
  area: "monitoring",
  description:
    "The baseline alarm set exists: each host (AWS/EC2 or CWAgent, by InstanceId) and the backup age on it " +
    "(OpenEMR BackupSuccess, missing data breaching; on the single tier also OpenEMR BinlogShipSuccess, " +
    "missing data breaching), each RDS instance (AWS/RDS, " +
    "by DBInstanceIdentifier) and each load balancer (AWS/ApplicationELB, by LoadBalancer).",
  citations: citeInferred("164.308(a)(1)(ii)(D)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Declare aws.cloudwatch.MetricAlarm resources for the missing subject, " +
    "with the dimension naming it, notifying the alert topic.",
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
    return [...hosts, ...databases, ...balancers];
  },
};

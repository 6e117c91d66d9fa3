import type { ResourceRule, RuleResource } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, failProperty, pass } from "../outcomes";

/** True when the alarm's actions are turned off (it changes state but notifies nobody). */
export function actionsDisabled(alarm: RuleResource): boolean {
  const enabled = alarm.props.actionsEnabled;
  return enabled === false || enabled === "false";
}

export const alarmHasActions: ResourceRule = {
  kind: "resource",
  id: "alarm-has-actions",
  area: "monitoring",
  description: "Every CloudWatch alarm notifies someone: alarmActions is set and actions are enabled.",
  citations: cite(...sections.AUD),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set alarmActions (and okActions) to the stack's alert SNS topic and leave actionsEnabled on.",
  resourceTypes: [AwsType.metricAlarm],
  evaluate(resource) {
    const enabled = resource.props.actionsEnabled;
    if (actionsDisabled(resource)) return failProperty(resource, "actionsEnabled", enabled, "true (or not set)");
    const actions = asArray<string>(resource.props.alarmActions);
    if (actions.length === 0)
      return failProperty(resource, "alarmActions", resource.props.alarmActions, "one or more SNS topic ARNs");
    return pass({ alarmActions: actions, actionsEnabled: enabled ?? true });
  },
};

import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, fail, notApplicable, pass, resultFor } from "../outcomes";
import { ofType, refersTo, resolve } from "../joins";
import { wildcardMatches } from "../documents";
import { natInstanceExemption } from "../compute/nat-instance";

/** True when a backup selection picks `subject`: by ARN (wildcards allowed) or by all of its tag conditions. */
function selects(selection: RuleResource, subject: RuleResource): boolean {
  const arn = subject.props.arn;
  const byArn =
    typeof arn === "string" &&
    asArray<string>(selection.props.resources).some(
      (pattern) => pattern === arn || (pattern.includes("*") && wildcardMatches(pattern, arn)),
    );
  const tagConditions = asArray<any>(selection.props.selectionTags);
  const tags = { ...(subject.provider?.props.defaultTags?.tags ?? {}), ...(subject.props.tags ?? {}) };
  const byTags =
    tagConditions.length > 0 &&
    tagConditions.every((condition) => condition?.type === "STRINGEQUALS" && tags[condition.key] === condition.value);
  return byArn || byTags;
}

/** What holds data: hosts, their volumes, databases and file systems (the `ha` tier's `sites/`). */
const subjectTypes = [AwsType.instance, AwsType.volume, AwsType.rdsInstance, AwsType.efsFileSystem];

export const inBackupPlan: StackRule = {
  kind: "stack",
  id: "in-backup-plan",
  area: "backup",
  description:
    "Every host, data volume, database and EFS file system is selected by an AWS Backup plan " +
    "(a volume counts when it is attached to a selected host, whose snapshot includes it); " +
    "the stack's NAT instance, which holds no data, is not applicable.",
  citations: cite(...sections.BAK),
  severity: "high",
  enforcement: "mandatory",
  remediation: "Add the resource's ARN (or a tag it carries) to an aws.backup.Selection of the stack's backup plan.",
  evaluate(resources) {
    const selections = ofType(resources, AwsType.backupSelection);
    const selectedBy = (subject: RuleResource) => selections.find((selection) => selects(selection, subject));
    return ofType(resources, ...subjectTypes).map((subject) => {
      if (subject.type === AwsType.instance && natInstanceExemption(resources, subject).exempt)
        return resultFor(
          subject,
          notApplicable("the NAT instance holds no data: it is rebuilt from Debian's image and its user-data"),
        );
      const selection = selectedBy(subject);
      if (selection)
        return resultFor(
          subject,
          pass({ "selection.resources": asArray(selection.props.resources), selection: selection.name }),
        );
      if (subject.type === AwsType.volume) {
        const host = ofType(resources, AwsType.volumeAttachment)
          .filter((attachment) => refersTo(attachment.props.volumeId, subject))
          .map((attachment) => resolve(resources, attachment.props.instanceId, AwsType.instance))
          .find((instance) => instance && selectedBy(instance));
        if (host) return resultFor(subject, pass({ attachedTo: host.name, selection: selectedBy(host)!.name }));
      }
      return resultFor(
        subject,
        fail(
          subject,
          `arn ${JSON.stringify(subject.props.arn ?? null)} is in no ${AwsType.backupSelection}'s resources ` +
            "(nor selected by tags); expected it in a backup plan",
          { arn: subject.props.arn ?? null, selections: selections.map((selection) => selection.name) },
        ),
      );
    });
  },
};

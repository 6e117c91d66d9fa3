import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, fail, failProperty, pass, resultFor } from "../outcomes";
import { ofType, referencing } from "../joins";

export const wafLogging: StackRule = {
  kind: "stack",
  id: "waf-logging",
  area: "edge",
  description:
    "Every WAF web ACL logs its requests (an aws.wafv2.WebAclLoggingConfiguration names it, with a destination).",
  citations: cite(...sections.AUD),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.wafv2.WebAclLoggingConfiguration with resourceArn the web ACL's ARN and " +
    "logDestinationConfigs an encrypted `aws-waf-logs-` log group; redact the Authorization and Cookie headers.",
  evaluate(resources) {
    return ofType(resources, AwsType.webAcl).map((acl) => {
      const logging = referencing(resources, acl, "resourceArn", AwsType.webAclLogging)[0];
      if (!logging)
        return resultFor(
          acl,
          fail(acl, `no ${AwsType.webAclLogging} has resourceArn set to it; expected WAF logging`, {
            "loggingConfiguration.resourceArn": null,
          }),
        );
      const destinations = asArray(logging.props.logDestinationConfigs);
      if (destinations.length === 0)
        return resultFor(acl, failProperty(logging, "logDestinationConfigs", destinations, "a log destination ARN"));
      return resultFor(acl, pass({ logDestinationConfigs: destinations }));
    });
  },
};

import type { ResourceRule } from "../types";
import { listenerTypes } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, failProperty, notApplicable, pass } from "../outcomes";
import { isHttpListener } from "./load-balancers";

export const albHttpsRedirect: ResourceRule = {
  kind: "resource",
  id: "alb-https-redirect",
  area: "edge",
  description: "Plain-HTTP listeners only redirect to HTTPS on 443; nothing is served over plain HTTP.",
  citations: cite(...sections.TLS),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Give the HTTP listener one default action " +
    '{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } } ' +
    "and no forwarding rules.",
  resourceTypes: listenerTypes,
  evaluate(resource) {
    if (!isHttpListener(resource)) return notApplicable(`is a ${resource.props.protocol ?? "non-HTTP"} listener`);
    const actions = asArray<any>(resource.props.defaultActions);
    if (actions.length === 0) return failProperty(resource, "defaultActions", actions, "a redirect to HTTPS 443");
    for (const [index, action] of actions.entries()) {
      if (action?.type !== "redirect")
        return failProperty(resource, `defaultActions[${index}].type`, action?.type, '"redirect"');
      if (action.redirect?.protocol !== "HTTPS")
        return failProperty(
          resource,
          `defaultActions[${index}].redirect.protocol`,
          action.redirect?.protocol,
          '"HTTPS"',
        );
      if (String(action.redirect?.port ?? "#{port}") !== "443")
        return failProperty(resource, `defaultActions[${index}].redirect.port`, action.redirect?.port, '"443"');
    }
    return pass({
      "defaultActions[0].type": "redirect",
      "defaultActions[0].redirect.protocol": "HTTPS",
      "defaultActions[0].redirect.port": actions[0].redirect.port,
    });
  },
};

import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, fail, failProperty, isTrue, pass, resultFor } from "../outcomes";
import { ofType, refersTo, resolve } from "../joins";
import { natInstanceExemption } from "./nat-instance";

export const ec2NoPublicIp: StackRule = {
  kind: "stack",
  id: "ec2-no-public-ip",
  area: "compute",
  description:
    "Hosts get no public IP address: not requested, " +
    "not inherited from a subnet that maps public IPs, no Elastic IP attached. " +
    "The one exception is the stack's NAT instance (natGateway: instance): tagged Role=nat-instance, " +
    "source/destination check off, admitting nothing from outside the VPC, with no volume attached.",
  citations: cite(...sections.ACC),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Set associatePublicIpAddress: false, launch hosts in private subnets and attach no Elastic IP; " +
    "users reach OpenEMR through the load balancer, operators through SSM.",
  evaluate(resources) {
    const results = ofType(resources, AwsType.instance).map((instance) => {
      const nat = natInstanceExemption(resources, instance);
      if (nat.exempt)
        return resultFor(
          instance,
          pass({ ...nat.evidence, associatePublicIpAddress: instance.props.associatePublicIpAddress }),
        );
      const requested = instance.props.associatePublicIpAddress;
      if (isTrue(requested))
        return resultFor(instance, failProperty(instance, "associatePublicIpAddress", requested, "false"));
      const subnet = resolve(resources, instance.props.subnetId, AwsType.subnet);
      if (requested !== false && subnet && isTrue(subnet.props.mapPublicIpOnLaunch)) {
        return resultFor(
          instance,
          failProperty(
            instance,
            "associatePublicIpAddress",
            requested,
            `false: subnet "${subnet.name}" maps public IPs on launch`,
            { "subnet.mapPublicIpOnLaunch": true },
          ),
        );
      }
      const elasticIp = [
        ...ofType(resources, AwsType.eip).filter((eip) => refersTo(eip.props.instance, instance)),
        ...ofType(resources, AwsType.eipAssociation).filter((association) =>
          refersTo(association.props.instanceId, instance),
        ),
      ][0];
      if (elasticIp)
        return resultFor(
          instance,
          fail(
            elasticIp,
            `${elasticIp.type === AwsType.eip ? "instance" : "instanceId"} attaches ` +
              `an Elastic IP to host "${instance.name}"; expected no public address`,
            { elasticIp: elasticIp.name },
          ),
        );
      return resultFor(
        instance,
        pass({
          associatePublicIpAddress: requested,
          "subnet.mapPublicIpOnLaunch": subnet?.props.mapPublicIpOnLaunch ?? null,
        }),
      );
    });
    const templates = ofType(resources, AwsType.launchTemplate).map((template) => {
      const interfaces = asArray<any>(template.props.networkInterfaces);
      const index = interfaces.findIndex((networkInterface) => isTrue(networkInterface?.associatePublicIpAddress));
      if (index >= 0)
        return resultFor(
          template,
          failProperty(
            template,
            `networkInterfaces[${index}].associatePublicIpAddress`,
            interfaces[index].associatePublicIpAddress,
            "false",
          ),
        );
      return resultFor(
        template,
        pass({
          networkInterfaces: interfaces.map((networkInterface) => networkInterface?.associatePublicIpAddress ?? null),
        }),
      );
    });
    return [...results, ...templates];
  },
};

export { trailEnabled } from "./trail-enabled";
export { trailKms } from "./trail-kms";
export { trailLogValidation } from "./trail-log-validation";
export { trailCloudwatch } from "./trail-cloudwatch";
export { cloudtrailMetricAlarms } from "./cloudtrail-metric-alarms";

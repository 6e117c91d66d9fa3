export { secretCmk } from "./secret-cmk";
export { secretRotation } from "./secret-rotation";
export { masterSecretNotOnEc2 } from "./master-secret-not-on-ec2";

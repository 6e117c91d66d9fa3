export { secretCmk } from "./secret-cmk";
export { secretRotation } from "./secret-rotation";

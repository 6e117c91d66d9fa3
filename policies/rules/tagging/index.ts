export { phiTagged } from "./phi-tagged";

// Every rule of the pack, grouped by area. The pack, the offline audit and the tests all use
// this one list; adding a rule is one file in its area and one line in that area's index.
import type { Rule } from "./types";
import * as network from "./network";
import * as compute from "./compute";
import * as database from "./database";
import * as backup from "./backup";
import * as storage from "./storage";
import * as keys from "./keys";
import * as logs from "./logs";
import * as monitoring from "./monitoring";
import * as iam from "./iam";
import * as secrets from "./secrets";
import * as audit from "./audit";
import * as edge from "./edge";
import * as tagging from "./tagging";

export const allRules: Rule[] = [
  network,
  compute,
  database,
  backup,
  storage,
  keys,
  logs,
  monitoring,
  iam,
  secrets,
  audit,
  edge,
  tagging,
].flatMap((area) => Object.values(area) as Rule[]);

import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { expectProperty } from "../outcomes";

/** The longest window AWS allows, and its default when not set. */
export const MAX_DELETION_WINDOW_DAYS = 30;

export const kmsDeletionWindow: ResourceRule = {
  kind: "resource",
  id: "kms-deletion-window",
  area: "keys",
  description:
    "KMS keys wait the full 30 days before deletion, the time to notice and " +
    "cancel a mistaken deletion that would make every backup unreadable.",
  citations: citeInferred(...sections.AVL),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set deletionWindowInDays: 30 (or leave it unset: AWS's default is 30).",
  resourceTypes: [AwsType.kmsKey],
  evaluate: (resource) =>
    expectProperty(
      resource,
      "deletionWindowInDays",
      (value) => value === undefined || Number(value) >= MAX_DELETION_WINDOW_DAYS,
      `${MAX_DELETION_WINDOW_DAYS} (or not set)`,
    ),
};

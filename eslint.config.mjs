// Type-aware lint: the rules that catch real bugs (promises left floating or passed where a
// callback is expected, values computed and never used). Formatting is Prettier's job alone.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "policies/node_modules/", "bin/", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-unused-expressions": "error",
      // Pulumi's captured inputs and AWS documents are untyped JSON by nature: the no-unsafe-*
      // family would demand a cast on every property read of them without catching more bugs.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      // An async function is the plain way to meet a Promise-returning interface (a mock's
      // method, a callback) even when its body does not await.
      "@typescript-eslint/require-await": "off",
    },
  },
  prettier,
  // Prettier wraps code but not strings or comments: this keeps those to the same width.
  { rules: { "max-len": ["error", { code: 120 }] } },
);

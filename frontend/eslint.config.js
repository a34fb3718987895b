// ESLint flat config: typescript-eslint's recommended rules and React's
// hooks rules for the admin page; `make lint` runs it with no warnings
// allowed.
import js from "@eslint/js";
import globals from "globals";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "src/api/schema.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  reactHooks.configs.flat["recommended-latest"],
  {
    files: ["src/**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      // A parameter named _x is kept for its position in a signature.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // The React Compiler's rules against setState in an effect and refs
      // read in render flag the page's data loading (useApi keeps the latest
      // loader in a ref and marks a reload as loading; a form resets when
      // its saved settings change). Moving that to a data library is a
      // change of design, not of lint; rules-of-hooks and exhaustive-deps
      // stay errors.
      "react-hooks/set-state-in-effect": "off",
      "react-hooks/refs": "off",
    },
  },
  {
    // e2e scripts run in Node and hand functions to the browser (page.evaluate).
    files: ["e2e/**/*.mjs", "scripts/**/*.mjs", "*.config.{js,ts}"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);

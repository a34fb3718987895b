import type {DetailedHTMLProps, HTMLAttributes} from 'react';

// App Bridge's web components, which React passes through as custom elements.
declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'ui-nav-menu': DetailedHTMLProps<HTMLAttributes<HTMLElement>, HTMLElement>;
    }
  }
}

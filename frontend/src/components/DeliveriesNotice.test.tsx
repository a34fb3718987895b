import {screen} from '@testing-library/react';
import {describe, expect, it} from 'vitest';

import {SHOP, fakeApi, renderWithApp} from '../test/render';
import {DeliveriesNotice} from './DeliveriesNotice';

const withDeliveries = (deliveries: object) => ({...SHOP, status: {...SHOP.status, deliveries}});

describe('DeliveriesNotice', () => {
  it.each([
    ['no counts at all', SHOP],
    ['nothing dead', withDeliveries({pending: 12, dead: 0, rejected: 3})],
  ])('renders nothing with %s', (_, shop) => {
    renderWithApp(<DeliveriesNotice shop={shop} />, {api: fakeApi({}), shop});
    expect(document.querySelector('[data-deliveries-dead]')).toBeNull();
  });

  it('warns about dead deliveries and says what happens next', () => {
    const shop = withDeliveries({pending: 0, dead: 1204, rejected: 0});
    renderWithApp(<DeliveriesNotice shop={shop} />, {api: fakeApi({}), shop});
    expect(screen.getByText('Some live updates from Shopify could not be applied')).toBeInTheDocument();
    expect(screen.getByText(/1,204 updates failed every try/)).toBeInTheDocument();
    expect(screen.getByText(/daily reconciliation/)).toBeInTheDocument();
  });
});

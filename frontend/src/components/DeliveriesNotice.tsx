import {Banner} from '@shopify/polaris';

import type {ShopInfo} from '../api/types';
import {useApp} from '../context';
import {isNum} from '../format';

// DeliveriesNotice tells the merchant when live updates from Shopify could
// not be applied, so figures may lag until the daily reconciliation; it
// renders nothing while every delivery applies.
export function DeliveriesNotice({shop}: {shop: ShopInfo}) {
  const {fmt} = useApp();
  const dead = shop.status?.deliveries?.dead;
  if (!isNum(dead) || dead <= 0) return null;
  return (
    <div data-deliveries-dead={dead}>
      <Banner tone="warning" title="Some live updates from Shopify could not be applied">
        <p>
          {fmt.integer(dead)} {dead === 1 ? 'update' : 'updates'} failed every try. The daily reconciliation fetches
          the changes again and retries them; until then some figures may be behind.
        </p>
      </Banner>
    </div>
  );
}

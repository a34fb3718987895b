import {screen, waitFor} from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {describe, expect, it, vi} from 'vitest';

import {fakeApi, renderWithApp} from '../test/render';
import {DataRequests} from './DataRequests';

describe('DataRequests', () => {
  it('lists the exports and downloads one with the session token', async () => {
    const api = fakeApi({
      '/api/exports': {
        exports: [
          {request_id: '9001', customer_id: '7', created_at: '2026-11-20T10:00:00Z', expires_at: '2026-12-20T10:00:00Z'},
        ],
      },
    });
    const createObjectURL = vi.fn(() => 'blob:x');
    Object.assign(URL, {createObjectURL, revokeObjectURL: vi.fn()});
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    renderWithApp(<DataRequests />, {api});
    await waitFor(() => expect(document.querySelector('[data-export="9001"]')).not.toBeNull());
    expect(document.querySelector('[data-export="9001"]')).toHaveTextContent('customer 7');
    await userEvent.click(screen.getByRole('button', {name: 'Download'}));
    await waitFor(() => expect(click).toHaveBeenCalled());
    expect(api.download).toHaveBeenCalledWith('/api/exports/9001');
    expect(createObjectURL).toHaveBeenCalled();
  });

  it('says when there is none', async () => {
    renderWithApp(<DataRequests />, {api: fakeApi({'/api/exports': {exports: []}})});
    expect(await screen.findByText('No data requests.')).toBeInTheDocument();
  });
});

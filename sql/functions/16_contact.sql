-- Customer contact details: the name, e-mail and phone a booking carries (the "contact" object of
-- p_booking_data), validated and normalized, and kept on the customer (booking.customers: display_name,
-- email, phone), where staff see them (api.location_schedule, api.search_bookings), the export shows
-- them and erasure clears them. They are not kept in the reservation's details. Internal helpers
-- (schema booking), not granted to any caller role.

-- contact_details
-- the "contact" object of booking data, validated and normalized: {name, email, phone}, each only when
-- given (absent or null: not given); NULL when there is no contact object. BK022 names the first
-- detail that is not acceptable.
create or replace function booking.contact_details(p_booking_data jsonb) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
declare
  v_contact jsonb := p_booking_data->'contact';
  v_key text;
  v_name text;
  v_email text;
  v_phone text;
  v_digits text;
begin
  if v_contact is null or jsonb_typeof(v_contact) = 'null' then
    return null;
  end if;
  if jsonb_typeof(v_contact) <> 'object' then
    raise exception 'booking_data.contact must be an object'
      using errcode = 'BK022', hint = 'Pass {"contact": {"name": ..., "email": ..., "phone": ...}}, each optional.';
  end if;
  for v_key in select k from jsonb_object_keys(v_contact) k order by k loop
    if v_key not in ('name', 'email', 'phone') then
      raise exception 'booking_data.contact has an unknown detail "%"', left(v_key, 50)
        using errcode = 'BK022', hint = 'A contact has only name, email and phone.';
    end if;
    if jsonb_typeof(v_contact->v_key) not in ('string', 'null') then
      raise exception 'booking_data.contact.% must be text', v_key
        using errcode = 'BK022', hint = 'Pass the detail as a JSON string, or leave it out.';
    end if;
  end loop;

  -- name: runs of white space become one space; 1 to 200 characters, no control characters
  v_name := btrim(regexp_replace(v_contact->>'name', '\s+', ' ', 'g'));
  if v_name is not null and (length(v_name) not between 1 and 200 or v_name ~ '[[:cntrl:]]') then
    raise exception 'booking_data.contact.name must have 1 to 200 characters and no control characters'
      using errcode = 'BK022', hint = 'Pass the name the customer goes by, e.g. "Anna Nowak".';
  end if;

  -- e-mail: one address (the syntax of an HTML e-mail field, with a dot in the domain), at most 254
  -- characters; the domain is written in lower case
  v_email := btrim(v_contact->>'email');
  if v_email is not null then
    if length(v_email) > 254
       or v_email !~ ('^[A-Za-z0-9.!#$%&''*+/=?^_`{|}~-]{1,64}@'
                      '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$') then
      raise exception 'booking_data.contact.email is not an e-mail address'
        using errcode = 'BK022', hint = 'Pass one address such as anna@example.com.';
    end if;
    v_email := split_part(v_email, '@', 1) || '@' || lower(split_part(v_email, '@', 2));
  end if;

  -- phone: digits with an optional leading +, written without separators (spaces, dots, dashes,
  -- slashes, parentheses); 6 to 15 digits (E.164 allows at most 15)
  v_phone := btrim(v_contact->>'phone');
  if v_phone is not null then
    v_digits := regexp_replace(v_phone, '[^0-9]', '', 'g');
    if v_phone !~ '^\+?[0-9 ().\-/]+$' or length(v_digits) not between 6 and 15 then
      raise exception 'booking_data.contact.phone is not a phone number'
        using errcode = 'BK022',
              hint = 'Pass 6 to 15 digits, optionally with a leading + and spaces, dashes or dots, e.g. +48 600 000 000.';
    end if;
    v_phone := case when v_phone like '+%' then '+' else '' end || v_digits;
  end if;

  return jsonb_strip_nulls(jsonb_build_object('name', v_name, 'email', v_email, 'phone', v_phone));
end;
$$;
comment on function booking.contact_details(jsonb) is
  'The "contact" object of booking data ({name, email, phone}, each optional) validated and normalized: white space in the name collapsed (1-200 characters), the e-mail''s domain in lower case, the phone as its digits with an optional leading + (6-15 digits). NULL without a contact object. BK022 when a detail is unknown, not text or not acceptable.';

-- save_contact_details
-- keeps the details a booking carried on its customer; a detail not given leaves the stored one.
create or replace function booking.save_contact_details(p_customer_id uuid, p_contact jsonb) returns void
language plpgsql
set search_path = ''
as $$
begin
  if p_contact is null or p_contact = '{}'::jsonb then
    return;
  end if;
  update booking.customers c
     set display_name = coalesce(p_contact->>'name', c.display_name),
         email = coalesce(p_contact->>'email', c.email),
         phone = coalesce(p_contact->>'phone', c.phone)
   where c.id = p_customer_id
     and (c.display_name, c.email, c.phone) is distinct from
         (coalesce(p_contact->>'name', c.display_name), coalesce(p_contact->>'email', c.email),
          coalesce(p_contact->>'phone', c.phone));
end;
$$;
comment on function booking.save_contact_details(uuid, jsonb) is
  'Stores contact details (booking.contact_details) on a customer: display_name, email, phone; a detail not given keeps its stored value; nothing is written when nothing changes.';

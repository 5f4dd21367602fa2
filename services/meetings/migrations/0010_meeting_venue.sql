-- A meeting held at a neighbourhood-centre venue keeps the centre's booking id, so that
-- cancelling the meeting releases the venue (the centre reacts to meeting.cancelled).
ALTER TABLE meetings ADD COLUMN venue_booking_id uuid;

/// The demo's saga definition, in the YAML shape of docs/sagas.md (steps, completion and failure
/// event types, compensations, terminal events, timeout).
enum OrderSaga {
    static let yaml = """
    sagas:
      - name: OrderSaga
        # Records and spans of one order share its id as correlation ID.
        correlation:
          header: correlation-id
          jsonPointer: /correlationId
        timeout: 30s
        steps:
          - name: place-order
            service: order-service
            topic: orders
            completedBy: [OrderPlaced]
            compensatedBy: [OrderCancelled]
          - name: authorize-payment
            service: payment-service
            topic: payments
            completedBy: [PaymentAuthorized]
            failedBy: [PaymentDeclined]
            compensatedBy: [PaymentRefunded]
          - name: reserve-inventory
            service: inventory-service
            topic: inventory
            completedBy: [InventoryReserved]
            failedBy: [OutOfStock]
            compensatedBy: [InventoryReleased]
          - name: ship
            service: shipping-service
            topic: shipments
            completedBy: [OrderShipped]
            failedBy: [ShipmentFailed]
        compensations:
          - event: PaymentRefunded
            compensates: authorize-payment
          - event: InventoryReleased
            compensates: reserve-inventory
          - event: OrderCancelled
            compensates: place-order
        terminal:
          completed: [OrderShipped]
          compensated: [OrderCancelled]

    """
}

/// The demo's saga definition for other parts of evtop (the sagas view loads it as a built-in).
public enum DemoSaga {
    /// The OrderSaga definition as YAML (the same text a user would put in a saga definition file).
    public static let definitionYAML = OrderSaga.yaml
}
